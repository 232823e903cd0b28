"""Gradient checkpointing changes memory and time, never the numbers: every method, both checkpoint kinds.

Three steps of `run_train` on qllm-tiny in float32, without checkpointing, with transformers'
default (non-reentrant) and with reentrant checkpointing: the logged losses agree to 1e-5 and the
trained adapters' weights (which every gradient of every step went into) agree to 1e-5.  The
adapters must move at all, so a checkpoint that cut them off from their gradients would show.
"""

from __future__ import annotations

import pytest
import torch
from seed import DATA_DIR

from qllm.train.log_file import read_log
from qllm.train.workflow import run_train

MODES = {
    "none": {},
    "non-reentrant": {"gradient_checkpointing": True},
    "reentrant": {"gradient_checkpointing": True, "gradient_checkpointing_kwargs": '{"use_reentrant": true}'},
}


def train(folder, method: str, mode: str) -> tuple[list[float], dict[str, torch.Tensor], float]:
    """The logged losses, the trained adapter's weights, and how far it moved the model's logits."""
    outcome = run_train(
        {
            "model_name_or_path": "qllm-tiny",
            "dataset": "qllm_tasks",
            "dataset_dir": str(DATA_DIR),
            "finetuning_type": method,
            "output_dir": str(folder / mode),
            "max_samples": 24,
            "per_device_train_batch_size": 4,
            "learning_rate": 1e-2,
            "max_steps": 3,
            "logging_steps": 1,
            "save_strategy": "no",
            "seed": 0,
            **MODES[mode],
        }
    )
    losses = [r["loss"] for r in read_log(folder / mode) if r.get("loss") is not None]
    model = outcome.model.eval()
    assert model.get_base_model().is_activation_checkpointing == (mode != "none"), mode  # the flag took effect
    weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    ids = torch.tensor([[3, 14, 15, 92, 65, 35]])
    with torch.no_grad():
        adapted = model(ids).logits
        with model.disable_adapter():  # every method starts as an exact identity: any change is learned
            moved = (adapted - model(ids).logits).abs().max().item()
    return losses, weights, moved


@pytest.mark.parametrize("method", ["lora", "vqc", "tq", "quanTA", "qpa"])
def test_checkpointing_trains_to_the_same_losses_and_weights(tmp_path, method):
    runs = {mode: train(tmp_path, method, mode) for mode in MODES}
    losses, weights, moved = runs["none"]
    assert len(losses) == 3 and moved > 1e-3
    for mode in ("non-reentrant", "reentrant"):
        other_losses, other_weights, _ = runs[mode]
        assert other_losses == pytest.approx(losses, rel=1e-5), mode
        assert other_weights.keys() == weights.keys()
        for name, value in weights.items():
            assert torch.allclose(other_weights[name], value, rtol=1e-5, atol=1e-6), (mode, name)
