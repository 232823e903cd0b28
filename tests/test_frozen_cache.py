"""A frozen adapter builds its unitaries / dense update once; a trainable one never serves a stale build.

The bug these tests pin down: `torch.optim.AdamW(fused=True)` (transformers 5's default optimizer)
changes parameters without bumping their version counters, so a cache keyed on versions kept the
first evaluation's unitaries for every later no-grad forward of a training process.
"""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict

from qllm.adapters.circuit.adapter import CircuitAdapter
from qllm.adapters.frozen_cache import FrozenCache
from qllm.adapters.qpa.layer import GeneratedLoRA
from qllm.adapters.quanta.layer import TensorAdapter
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.model.loader import load_model

METHODS = {
    "vqc": {"finetuning_type": "vqc", "q_depth": 2},
    "tq": {"finetuning_type": "tq"},
    "quanTA": {"finetuning_type": "quanTA", "per_dim_features": "8,4,2,2"},
    "qpa": {"finetuning_type": "qpa"},
}
IDS = torch.tensor([[3, 14, 15, 92, 65, 35]])
ADAPTERS = (CircuitAdapter, TensorAdapter, GeneratedLoRA)  # each method's adapter module
OPTIMIZERS = {"fused": {"fused": True}, "foreach": {"foreach": True}, "for-loop": {"foreach": False}}


def trainable_model(method: str):
    torch.manual_seed(0)
    model = get_peft_model(load_model("qllm-tiny"), FinetuningArguments(**METHODS[method]).peft_config())
    with torch.no_grad():  # B (or quanTA's last tensor) starts at zero: move off the identity so changes show
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn_like(parameter))
    return model


def fresh_logits(model, method: str) -> torch.Tensor:
    """The logits of a new model holding ``model``'s adapter weights: nothing built before, nothing kept."""
    copy = get_peft_model(load_model("qllm-tiny"), FinetuningArguments(**METHODS[method]).peft_config()).eval()
    set_peft_model_state_dict(copy, get_peft_model_state_dict(model))
    with torch.no_grad():
        return copy(IDS).logits


def cached_values(model) -> list:
    """What the adapters keep built from their trainable parameters.  Not counted: quanTA's folded base
    weight W - dense(S), built from the frozen base weight and the frozen copy S alone."""
    adapters = [m for m in model.modules() if isinstance(m, ADAPTERS)]
    return [
        value._value
        for adapter in adapters
        for name, value in vars(adapter).items()
        if isinstance(value, FrozenCache) and name != "_folded_base"
    ]


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("method", list(METHODS))
def test_no_grad_forward_after_each_optimizer_step_equals_a_fresh_model(method, optimizer):
    model = trainable_model(method)
    trainable = [p for p in model.parameters() if p.requires_grad]
    adamw = torch.optim.AdamW(trainable, lr=1e-2, **OPTIMIZERS[optimizer])
    previous = None
    for _ in range(3):
        model.eval()
        with torch.no_grad():  # an evaluation between steps, as the Trainer does
            now = model(IDS).logits
        scale = now.abs().max()
        assert (now - fresh_logits(model, method)).abs().max() <= 1e-5 * scale
        if previous is not None:
            assert (now - previous).abs().max() > 1e-4 * scale  # the step is seen
        previous = now
        model.train()
        model(IDS, labels=IDS).loss.backward()
        adamw.step()
        adamw.zero_grad()
    assert all(value is None for value in cached_values(model))  # a trainable adapter keeps nothing


@pytest.mark.parametrize("method", list(METHODS))
def test_a_frozen_adapter_builds_once_and_follows_reloads(method, tmp_path):
    trained = trainable_model(method)
    trained.save_pretrained(tmp_path / "a")
    with torch.no_grad():
        for parameter in trained.parameters():
            if parameter.requires_grad:
                parameter.mul_(1.5)
    trained.save_pretrained(tmp_path / "b")
    model = PeftModel.from_pretrained(load_model("qllm-tiny"), tmp_path / "a").eval()  # as chat and eval load it
    assert not any(p.requires_grad for p in model.parameters())
    with torch.no_grad():
        first = model(IDS).logits
        built = cached_values(model)
        again = model(IDS).logits
    assert torch.equal(first, again) and all(a is b for a, b in zip(built, cached_values(model)))
    scale = first.abs().max()

    b_weights = PeftModel.from_pretrained(load_model("qllm-tiny"), tmp_path / "b")
    state = get_peft_model_state_dict(b_weights)
    with torch.no_grad():
        expected_b = b_weights.eval()(IDS).logits
        set_peft_model_state_dict(model, state)  # load_state_dict: version counters move
        assert (model(IDS).logits - expected_b).abs().max() <= 1e-5 * scale
        again_a = PeftModel.from_pretrained(load_model("qllm-tiny"), tmp_path / "a")
        model.load_state_dict(again_a.state_dict(), assign=True)  # new tensors: new storage
        assert (model(IDS).logits - first).abs().max() <= 1e-5 * scale

    for module in model.modules():  # unfrozen and trained further: nothing kept is served
        if isinstance(module, ADAPTERS):
            module.requires_grad_(True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable
    adamw = torch.optim.AdamW(trainable, lr=1e-2, fused=True)
    model(IDS, labels=IDS).loss.backward()
    adamw.step()
    with torch.no_grad():
        assert (model(IDS).logits - fresh_logits(model, method)).abs().max() <= 1e-5 * scale
