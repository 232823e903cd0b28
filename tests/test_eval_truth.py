"""What a run logs as eval_loss is the loss of what it saved, and "best" is truly the best.

Through `qllm train`'s own path with transformers' default optimizer (fused AdamW, which updates
parameters without bumping their version counters), for every method: each in-training eval_loss
equals the loss of that step's checkpoint scored in a fresh process, and --load_best_model_at_end
leaves as the final adapter the checkpoint whose fresh loss is truly the lowest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file
from seed import DATA_DIR

from qllm.constants import ADAPTER_WEIGHTS
from qllm.train.log_file import read_log
from qllm.train.workflow import run_train

METHODS = {"lora": {}, "vqc": {}, "tq": {}, "quanTA": {}}  # each method's defaults, as a user starts


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, dict[str, float]]]:
    from transformers import TrainingArguments

    assert str(TrainingArguments(output_dir="x", use_cpu=True).optim.value) == "adamw_torch_fused"
    folders = {}
    for method, extra in METHODS.items():
        folders[method] = tmp_path_factory.mktemp(method)
        run_train(
            {
                "model_name_or_path": "qllm-tiny",
                "dataset": "qllm_tasks",
                "dataset_dir": str(DATA_DIR),
                "finetuning_type": method,
                "output_dir": str(folders[method]),
                "max_samples": 120,
                "val_size": 0.2,
                "per_device_train_batch_size": 4,
                "per_device_eval_batch_size": 8,
                "learning_rate": 5e-3,
                "max_steps": 6,
                "logging_steps": 2,
                "eval_strategy": "steps",
                "eval_steps": 2,
                "save_steps": 2,
                "load_best_model_at_end": True,
                "metric_for_best_model": "eval_loss",
                "seed": 0,
                **extra,
            }
        )
    worker = Path(__file__).with_name("checkpoint_loss_worker.py")
    done = subprocess.run(
        [sys.executable, str(worker), *map(str, folders.values())], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    fresh = json.loads(done.stdout.strip().splitlines()[-1])
    return {method: (folder, fresh[str(folder)]) for method, folder in folders.items()}


@pytest.mark.parametrize("method", list(METHODS))
def test_in_training_eval_loss_is_the_saved_checkpoints_loss(runs, method):
    folder, fresh = runs[method]
    logged = [r for r in read_log(folder) if r["eval_loss"] is not None and r["current_steps"] < 6]
    assert [r["current_steps"] for r in logged] == [2, 4]  # step 6's evaluation is logged with the final one
    for record in logged:
        assert record["eval_loss"] == pytest.approx(fresh[f"checkpoint-{record['current_steps']}"], rel=1e-5)
    losses = [fresh[f"checkpoint-{step}"] for step in (2, 4, 6)]
    assert len(set(losses)) == 3, losses  # the adapter changed, and the evaluations saw it


@pytest.mark.parametrize("method", list(METHODS))
def test_the_final_adapter_is_the_truly_best_checkpoint(runs, method):
    folder, fresh = runs[method]
    best = min((name for name in fresh if name != "final"), key=fresh.get)
    final, chosen = load_file(folder / ADAPTER_WEIGHTS), load_file(folder / best / ADAPTER_WEIGHTS)
    assert final.keys() == chosen.keys() and all((final[k] == chosen[k]).all() for k in final)
    state = json.loads((folder / "trainer_state.json").read_text())
    assert state["best_model_checkpoint"].endswith(best)
    assert state["best_metric"] == pytest.approx(fresh[best], rel=1e-5)
