"""quanTA's frozen copy S folded into the base weight while training: same numbers, base weight untouched.

A training forward on a float32 base computes (W - dense(S)) x + T(x) instead of
W x + T(x) - S(x): one tensor chain instead of two.  Tolerance 1e-5 relative: the two
differ only in float32 rounding (the order of the sums).
"""

from __future__ import annotations

import torch
from peft import get_peft_model

from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.model.loader import load_model

ARGS = {"finetuning_type": "quanTA", "per_dim_features": "8,4,2,2"}
IDS = torch.tensor([[1, 318, 201, 37, 334, 326, 86, 223, 25, 693, 2]])


def quanta_model(dtype: str = "float32", **overrides):
    torch.manual_seed(0)
    model = get_peft_model(load_model("qllm-tiny", dtype=dtype), FinetuningArguments(**ARGS, **overrides).peft_config())
    with torch.no_grad():  # away from the start, as after training
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn_like(parameter))
    return model


def first_layer(model):
    return model.base_model.model.model.layers[0].self_attn.q_proj


def assert_close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> None:
    assert (a - b).abs().max().item() <= tol * max(1.0, b.abs().max().item())


def test_the_folded_forward_and_its_gradients_equal_the_two_chains():
    layer = first_layer(quanta_model())
    adapter = layer.adapters["default"]
    assert layer.folding_adapter() == "default"
    x = torch.randn(3, 7, layer.in_features, requires_grad=True)
    weights = torch.linspace(-1, 1, 3 * 7 * layer.out_features).reshape(3, 7, -1)
    inputs = [x, *adapter.tensors]
    folded = layer(x)
    folded_grads = torch.autograd.grad((folded * weights).sum(), inputs)
    two_chains = layer.base_layer(x) + adapter(x)  # W x + T(x) - S(x)
    two_chain_grads = torch.autograd.grad((two_chains * weights).sum(), inputs)
    assert_close(folded, two_chains)
    for ours, reference in zip(folded_grads, two_chain_grads):
        assert_close(ours, reference)


def test_training_leaves_the_base_weight_untouched_and_disabling_gives_the_base_model():
    model = quanta_model()
    weight = first_layer(model).base_layer.weight.detach().clone()
    base_logits = load_model("qllm-tiny")(IDS).logits.detach()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2, fused=True)
    for _ in range(2):
        model(IDS, labels=IDS).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert torch.equal(first_layer(model).base_layer.weight, weight)
    with torch.no_grad(), model.disable_adapter():
        assert torch.equal(model(IDS).logits, base_logits)
    assert torch.equal(model.unload().model.layers[0].self_attn.q_proj.weight, weight)


def test_a_reloaded_frozen_copy_is_folded_anew():
    model, other = quanta_model(), quanta_model()
    with torch.no_grad():  # another S, as in a checkpoint loaded into a running model
        for name, buffer in other.named_buffers():
            if "frozen_" in name:
                buffer.add_(0.1 * torch.randn_like(buffer))
    layer = first_layer(model)
    x = torch.randn(4, layer.in_features)
    layer(x)  # builds the folded weight of the first S
    model.load_state_dict(other.state_dict())
    assert_close(layer(x), layer.base_layer(x) + layer.adapters["default"](x))


def test_the_active_adapter_folds_its_own_copy():
    model = quanta_model()
    model.add_adapter("second", FinetuningArguments(**ARGS).peft_config())
    model.set_adapter("second")
    layer = first_layer(model)
    assert layer.folding_adapter() == "second"
    x = torch.randn(4, layer.in_features)
    assert_close(layer(x), layer.base_layer(x) + layer.adapters["second"](x))


def test_what_keeps_two_chains():
    assert first_layer(quanta_model("bfloat16")).folding_adapter() is None  # a rounded fold would move the start
    assert first_layer(quanta_model(quanta_init="zero_last")).folding_adapter() is None  # no S
    frozen = quanta_model()
    for parameter in frozen.parameters():
        parameter.requires_grad_(False)
    assert first_layer(frozen.eval()).folding_adapter() is None  # inference: one dense update serves every token
