"""Generation builds a circuit's unitaries and quanTA's dense update once, and never serves a stale one."""

from __future__ import annotations

import pytest
import torch
from peft import get_peft_model

from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.model.loader import load_model

METHODS = {
    "vqc": {"finetuning_type": "vqc", "q_depth": 2},
    "tq": {"finetuning_type": "tq"},
    "quanTA": {"finetuning_type": "quanTA", "per_dim_features": "8,4,2,2"},
}


@pytest.mark.parametrize("method", list(METHODS))
def test_no_grad_forwards_reuse_the_build_and_follow_parameter_changes(method):
    torch.manual_seed(0)
    model = get_peft_model(load_model("qllm-tiny"), FinetuningArguments(**METHODS[method]).peft_config()).eval()
    trainable = [p for p in model.parameters() if p.requires_grad]
    with torch.no_grad():
        for parameter in trainable:
            parameter.add_(0.1 * torch.randn_like(parameter))
    ids = torch.tensor([[3, 14, 15, 92, 65, 35]])
    expected = model(ids).logits  # gradients recorded: built fresh, nothing cached
    with torch.no_grad():
        first, again = model(ids).logits, model(ids).logits
    scale = expected.abs().max()  # the built-once path sums in another order: equal to float32 rounding
    assert (first - expected).abs().max() <= 1e-5 * scale and torch.equal(first, again)
    with torch.no_grad():  # an optimizer step changes parameters in place
        for parameter in trainable:
            parameter.add_(0.05)
        changed = model(ids).logits
    assert (changed - model(ids).logits).abs().max() <= 1e-5 * scale  # the grad-enabled forward agrees: not stale
    assert (changed - first).abs().max() > 1e-3
