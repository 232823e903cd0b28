"""End to end on `qllm-tiny`: a LoRA run learns, writes every output, loads back, and resumes."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from seed import DATA_DIR

from qllm.train.log_file import read_log
from qllm.train.workflow import run_train


def lora_args(output_dir, **overrides) -> dict:
    args = {
        "model_name_or_path": "qllm-tiny",
        "dataset": "qllm_tasks",
        "dataset_dir": str(DATA_DIR),
        "template": "qwen",
        "finetuning_type": "lora",
        "lora_target": "q_proj,v_proj",
        "output_dir": str(output_dir),
        "max_samples": 320,
        "val_size": 32,
        "per_device_train_batch_size": 8,
        "per_device_eval_batch_size": 16,
        "learning_rate": 3e-3,
        "num_train_epochs": 1,
        "logging_steps": 4,
        "eval_strategy": "steps",
        "eval_steps": 12,
        "save_steps": 12,
        "plot_loss": True,
        "seed": 0,
    }
    return {**args, **overrides}


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("lora") / "run"
    metrics = run_train(lora_args(output_dir)).metrics
    return output_dir, metrics


def test_eval_loss_falls_and_every_output_is_written(lora_run):
    output_dir, metrics = lora_run
    for name in (
        "adapter_config.json",
        "adapter_model.safetensors",
        "trainer_log.jsonl",
        "trainer_state.json",
        "all_results.json",
        "train_args.yaml",
        "training_loss.png",
        "run.log",
    ):
        assert (output_dir / name).is_file(), name
    records = read_log(output_dir)
    eval_losses = [r["eval_loss"] for r in records if r["eval_loss"] is not None]
    assert len(eval_losses) >= 3
    assert eval_losses[-1] < eval_losses[0] * 0.8, eval_losses
    train_records = [r for r in records if r["loss"] is not None]
    assert train_records[-1]["current_steps"] == train_records[-1]["total_steps"] == 36
    for field in (
        "current_steps",
        "total_steps",
        "loss",
        "eval_loss",
        "lr",
        "epoch",
        "percentage",
        "elapsed_time",
        "remaining_time",
        "tokens_per_second",
        "peak_memory_mb",
    ):
        assert field in records[0]
    assert train_records[0]["tokens_per_second"] > 0
    assert json.loads((output_dir / "all_results.json").read_text())["eval_loss"] == pytest.approx(metrics["eval_loss"])


def test_saved_adapter_loads_with_peft_and_reproduces_the_model(lora_run):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from qllm.paths import TINY_MODEL_DIR

    output_dir, _ = lora_run
    config = json.loads((output_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and sorted(config["target_modules"]) == ["q_proj", "v_proj"]
    base = AutoModelForCausalLM.from_pretrained(TINY_MODEL_DIR)
    ids = torch.tensor([[1, 318, 201, 37, 334, 2]])
    base_logits = base(ids).logits
    model = PeftModel.from_pretrained(base, output_dir).eval()
    tuned_logits = model(ids).logits
    assert not torch.allclose(base_logits, tuned_logits, atol=1e-4), "the trained adapter changes the model"


def test_train_args_yaml_reproduces_the_arguments(lora_run):
    from qllm.hparams.parser import get_train_args

    output_dir, _ = lora_run
    model, data, training, finetuning = get_train_args([str(output_dir / "train_args.yaml")])
    assert training.learning_rate == 3e-3 and data.max_samples == 320 and finetuning.lora_target == "q_proj,v_proj"


def test_resume_from_the_last_checkpoint(tmp_path):
    output_dir = tmp_path / "run"
    short = {
        "max_samples": 64,
        "val_size": 0,
        "eval_strategy": "no",
        "max_steps": 6,
        "save_steps": 3,
        "logging_steps": 1,
        "plot_loss": False,
    }
    run_train(lora_args(output_dir, **short))
    # Simulate a run killed after its first checkpoint: only checkpoint-3 and the logs remain.
    shutil.rmtree(output_dir / "checkpoint-6")
    for name in ("all_results.json", "train_results.json", "adapter_model.safetensors", "adapter_config.json"):
        (output_dir / name).unlink()
    run_train(lora_args(output_dir, **short))
    assert "resuming from" in (output_dir / "run.log").read_text()
    steps = [r["current_steps"] for r in read_log(output_dir)]
    assert steps == [1, 2, 3, 4, 5, 6], "records up to the checkpoint are kept, later ones written once"
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    # A finished run is not resumed on a new schedule nor silently overwritten, though it holds checkpoints;
    # --overwrite_output_dir starts afresh.
    from qllm.errors import ArgumentError

    assert (output_dir / "checkpoint-6").is_dir()
    with pytest.raises(ArgumentError, match="finished run"):
        run_train(lora_args(output_dir, **short))
    run_train(lora_args(output_dir, **short, overwrite_output_dir=True))
    assert "resuming" not in (output_dir / "run.log").read_text()
