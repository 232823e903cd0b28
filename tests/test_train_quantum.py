"""Each quantum method trains end to end on qllm-tiny through `qllm train`, and round-trips."""

from __future__ import annotations

import pytest
import torch
from seed import DATA_DIR

from qllm.train.log_file import read_log
from qllm.train.workflow import run_train

IDS = torch.tensor([[1, 318, 201, 37, 334, 326, 86, 223, 25, 693, 2, 1, 317, 201]])


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("vqc", {"n_qubits": 4}),
        ("tq", {"n_qubits": 4, "q_depth": 2}),
        ("quanTA", {"per_dim_features": "8,4,2,2"}),
        ("qpa", {}),
    ],
)
def test_method_trains_and_round_trips(tmp_path, method, extra):
    from peft import PeftModel

    from qllm.model.loader import load_model

    outcome = run_train(
        {
            "model_name_or_path": "qllm-tiny",
            "dataset": "qllm_tasks",
            "dataset_dir": str(DATA_DIR),
            "template": "qwen",
            "finetuning_type": method,
            "output_dir": str(tmp_path / "run"),
            "max_samples": 160,
            "per_device_train_batch_size": 8,
            "learning_rate": 1e-2,
            "max_steps": 20,
            "logging_steps": 2,
            "save_strategy": "no",
            "seed": 0,
            **extra,
        }
    )
    losses = [r["loss"] for r in read_log(tmp_path / "run") if r["loss"] is not None]
    assert sum(losses[-3:]) / 3 < 0.85 * sum(losses[:3]) / 3, losses
    trained = outcome.model.eval().requires_grad_(False)  # frozen as the reloaded one: the same computation
    with torch.no_grad():
        expected = trained(IDS.to(trained.device)).logits.cpu()
        loaded = PeftModel.from_pretrained(load_model("qllm-tiny"), tmp_path / "run").eval()
        assert (loaded(IDS).logits - expected).abs().max().item() <= 1e-5
