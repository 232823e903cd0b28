"""Every method on a 4-bit and an 8-bit qllm-tiny base (bitsandbytes on the CPU): trains, saves, reloads.

Training: 3 steps on one repeated batch, so the loss must fall.  Reload: in a fresh process
(`quantized_reload_worker.py`), as `qllm eval` / `qllm chat` load models, onto the same
quantized base — the trained model's logits to 5e-5 (float32 rounding of logits ~4; 1e-5
measured) — and onto the float base, where the adapter works unchanged and the logits differ
only by the base's quantization error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from seed import DATA_DIR

from qllm.errors import ArgumentError
from qllm.methods import METHODS
from qllm.train.log_file import read_log
from qllm.train.workflow import run_train

WORKER = Path(__file__).resolve().parent / "quantized_reload_worker.py"
IDS = torch.tensor([[1, 318, 201, 37, 334, 326, 86, 223, 25, 693, 2, 1, 317, 201]])
BITS = (4, 8)
LEARNING_RATES = {"qpa": 1e-3}  # its generated update moves faster: 1e-2 overshoots on the second step


def train(folder: Path, method: str, bits: int):
    return run_train(
        {
            "model_name_or_path": "qllm-tiny",
            "dataset": "qllm_tasks",
            "dataset_dir": str(DATA_DIR),
            "template": "qwen",
            "finetuning_type": method,
            "quantization_bit": bits,
            "output_dir": str(folder),
            "max_samples": 8,
            "per_device_train_batch_size": 8,
            "learning_rate": LEARNING_RATES.get(method, 1e-2),
            "max_steps": 3,
            "logging_steps": 1,
            "save_strategy": "no",
            "seed": 0,
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[tuple[str, int], tuple[Path, list[float], torch.Tensor]]:
    """Each method x bits: the run folder, its losses, and the trained model's logits of IDS."""
    from bitsandbytes.nn import Linear4bit, Linear8bitLt

    runs = {}
    for method in METHODS:
        for bits in BITS:
            folder = tmp_path_factory.mktemp(f"{method}-{bits}bit")
            model = train(folder, method, bits).model.eval()
            layer = model.base_model.model.model.layers[0].self_attn.q_proj
            assert isinstance(layer.base_layer, Linear4bit if bits == 4 else Linear8bitLt), "adapters wrap it"
            with torch.no_grad():
                expected = model(IDS).logits.float()
            losses = [record["loss"] for record in read_log(folder) if record.get("loss") is not None]
            runs[method, bits] = folder, losses, expected
    return runs


@pytest.fixture(scope="module")
def reloaded(trained, tmp_path_factory) -> dict[str, dict[str, torch.Tensor]]:
    folder = tmp_path_factory.mktemp("reload")
    runs = [{"adapter": str(run[0]), "bits": bits} for (_, bits), run in trained.items()]
    (folder / "runs.json").write_text(json.dumps(runs))
    done = subprocess.run([sys.executable, str(WORKER), str(folder / "runs.json"), str(folder / "logits.pt")],
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return torch.load(folder / "logits.pt")


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("method", list(METHODS))
def test_method_trains_on_a_quantized_base_and_reloads(trained, reloaded, method, bits):
    folder, losses, expected = trained[method, bits]
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses))), losses
    assert losses[-1] < losses[0], f"the loss falls on a repeated batch: {losses}"
    assert (folder / "adapter_config.json").is_file()
    logits = reloaded[str(folder)]
    assert (logits["quantized"] - expected).abs().max().item() <= 5e-5, "a fresh process reloads the same model"
    assert torch.isfinite(logits["float"]).all()
    gap = (logits["float"] - expected).abs().max().item()
    assert 0 < gap < 0.5 * expected.abs().max().item(), f"the float base differs by quantization only ({gap})"


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--quantization_bit", "3"], "quantization_bit"),
        (["--quantization_bit", "4", "--quantization_type", "int4"], "quantization_type"),
    ],
)
def test_a_quantization_bitsandbytes_cannot_do_is_refused(flags, field):
    from qllm.hparams.parser import get_infer_args

    with pytest.raises(ArgumentError) as caught:
        get_infer_args(["--model_name_or_path", "qllm-tiny", *flags])
    assert caught.value.field == field and "choose" in caught.value.message


def test_without_bitsandbytes_quantization_names_the_install(monkeypatch):
    import importlib.util

    from qllm.hparams.parser import get_infer_args

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "bitsandbytes" else real(name, *a)
    )
    with pytest.raises(ArgumentError, match="pip install bitsandbytes"):
        get_infer_args(["--model_name_or_path", "qllm-tiny", "--quantization_bit", "4"])


def test_export_onto_a_quantized_base_is_refused_and_writes_nothing(trained, tmp_path):
    from qllm.model.export import run_export

    folder = trained["lora", 4][0]
    target = tmp_path / "merged"
    with pytest.raises(ArgumentError) as caught:
        run_export(["--model_name_or_path", "qllm-tiny", "--adapter_name_or_path", str(folder),
                    "--quantization_bit", "4", "--export_dir", str(target), "--template", "qwen"])  # fmt: skip
    assert caught.value.field == "quantization_bit" and "leave --quantization_bit out" in caught.value.message
    assert not target.exists()


def test_our_layers_refuse_to_merge_into_a_quantized_layer():
    from qllm.adapters.attach import attach_adapter
    from qllm.hparams.finetuning_args import FinetuningArguments
    from qllm.model.loader import load_model
    from qllm.model.quantization import bnb_config

    base = load_model("qllm-tiny", quantization=bnb_config(4, "nf4", True, torch.float32))
    model = attach_adapter(base, FinetuningArguments(finetuning_type="qpa"), None, is_trainable=False)
    with pytest.raises(ValueError, match="cannot merge into a quantized layer"):
        model.merge_and_unload()


def test_an_evaluation_on_a_quantized_base_says_so_in_its_results_and_on_the_board(trained, tmp_path):
    from qllm.eval.workflow import run_eval
    from qllm.webui.handlers.evaluate import reading_text

    folder = trained["vqc", 4][0]
    results = run_eval({"model_name_or_path": "qllm-tiny", "template": "qwen", "task": "mmlu_sample", "n_shot": 0,
                        "task_dir": str(tmp_path / "no_real_files"), "adapter_name_or_path": str(folder),
                        "quantization_bit": 4, "save_dir": str(tmp_path)})  # fmt: skip
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["quantization_bit"] == 4 and results["table"].endswith("· base in 4 bits")
    assert reading_text(saved, "en") == "base in 4 bits", "the board's note and history say it"


def test_only_a_4_bit_base_is_sharded_and_its_weights_are_stored_to_split():
    from qllm.model.quantization import bnb_config, check_sharded_quantization

    with pytest.raises(ArgumentError, match="8-bit base cannot be sharded"):
        check_sharded_quantization(8, sharded=True)
    check_sharded_quantization(4, sharded=True)
    check_sharded_quantization(8, sharded=False)
    assert bnb_config(4, "nf4", True, torch.bfloat16, sharded=True).bnb_4bit_quant_storage == torch.bfloat16
    assert bnb_config(4, "nf4", True, torch.bfloat16).bnb_4bit_quant_storage == torch.uint8
