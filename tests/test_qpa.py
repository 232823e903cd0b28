"""qpa is the official QPA network (with the paper's pairing), starts at exactly zero, merges, and counts right.

The reference below is written from the official code's maths (github CYLphysics/QPA,
`qpa_lora.py`: `QLayer.forward`, `generate_qubit_states_torch`, `QT_HyperNet.forward` with one
sub-hypernetwork, `QPA_LoRALayer.forward`), independently of torchquantum: the circuit's state is
built with explicit 2^n-vectors (RY as a 2×2 matrix on wire w, wire 0 the most significant bit;
CNOT as a permutation of basis states), the random index draw replaced by 0, 1, 2, …
Tolerances: 1e-5 relative on the update, 1e-4 relative on gradients (float32 arithmetic in another
order of operations; a gradient sums thousands of terms, through p^0.15 whose slope grows where p is small).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from peft import get_peft_model

import qllm  # noqa: F401 - registers the methods with peft
from qllm.adapters.qpa.layer import GeneratedLoRA
from qllm.errors import ArgumentError
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.model.loader import load_model

TOLERANCE = 1e-5
GRADIENT_TOLERANCE = 1e-4
OFFICIAL_WIDTHS = [32, 64, 128, 128, 64, 32, 32]  # MappingModel's hidden sizes and its output, before fc1


def official_probabilities(angles: torch.Tensor) -> torch.Tensor:
    """QLayer: per block RY(θ) on every wire, then CNOT(k, k+1) for k < n-1; |amplitude|² post-processed."""
    depth, n = angles.shape
    state = torch.zeros(2**n, dtype=torch.float32)
    state[0] = 1.0
    for block in range(depth):
        for wire in range(n):
            c, s = torch.cos(angles[block, wire] / 2), torch.sin(angles[block, wire] / 2)
            ry = torch.stack((torch.stack((c, -s)), torch.stack((s, c))))
            tensor = state.reshape(2**wire, 2, 2 ** (n - wire - 1))
            state = torch.einsum("ij,ajb->aib", ry, tensor).reshape(-1)
        for control in range(n - 1):
            target = control + 1
            index = torch.arange(2**n)
            control_set = (index >> (n - 1 - control)) & 1
            flipped = torch.where(control_set.bool(), index ^ (1 << (n - 1 - target)), index)
            state = state[flipped]
    probabilities = state.abs() ** 2
    shaped = (0.60 * torch.tanh(0.1 * 2 ** (n - 1) * probabilities)) ** 0.15
    return shaped - shaped.mean()


def official_generated(generator, weight_length: int, chunk_size: int) -> torch.Tensor:
    """QT_HyperNet.forward with the qubit states of 0, 1, 2, … (the random draw replaced by the identity order)."""
    batch = math.ceil(weight_length / chunk_size)
    n = math.ceil(math.log2(batch))
    probs = official_probabilities(generator.angles)[:batch].reshape(batch, 1, 1)
    indices = torch.arange(batch, dtype=torch.int64).unsqueeze(1)
    qubit_states = ((indices.unsqueeze(2) & (1 << torch.arange(n, dtype=torch.int64))) > 0).float() * 2 - 1
    x = torch.cat((qubit_states, probs), dim=2)
    layers = list(generator.mapping)  # input_layer, hidden_layers..., output_layer, then fc1: Linear after Linear
    for layer in layers:
        x = x @ layer.weight.T + layer.bias
    flat = x.reshape(-1)[:weight_length]
    return flat - flat.mean()


def official_delta(x: torch.Tensor, generator, d_in: int, d_out: int, r: int, alpha: float, chunk: int):
    """QPA_LoRALayer.forward's delta: its "A" is the first d_out·r weights as (d_out, r), its "B" the rest."""
    weights = official_generated(generator, d_out * r + r * d_in, chunk)
    official_a = weights[: d_out * r].view(d_out, r)
    official_b = weights[d_out * r :].view(r, d_in)
    return (x @ official_b.t()) @ official_a.t() * (alpha / r)


def layer(d_in: int, d_out: int, r: int, chunk: int, depth: int, widths: list[int], dropout: float = 0.0):
    config = SimpleNamespace(r=r, alpha=2 * r, dropout=dropout, q_depth=depth, chunk_size=chunk, hidden_sizes=widths)
    return GeneratedLoRA(d_in, d_out, config)


CASES = {
    "Qwen2.5-0.5B q_proj, the defaults": (896, 896, 8, 128, 1, [16, 16]),
    "Qwen2.5-0.5B v_proj, depth 3": (896, 128, 8, 128, 3, [16, 16]),
    "chunks not a power of two, a ragged last chunk": (100, 60, 4, 96, 2, [8, 12, 8]),
    "the official GPT-2 lm_head setting": (768, 50257, 4, 2048, 8, OFFICIAL_WIDTHS),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_generator_is_the_official_network_with_the_paper_s_pairing(case):
    d_in, d_out, r, chunk, depth, widths = CASES[case]
    torch.manual_seed(0)
    adapter = layer(d_in, d_out, r, chunk, depth, widths)
    with torch.no_grad():  # move off the start, so the comparison is of a trained adapter's computation
        for parameter in adapter.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    x = torch.randn(3, d_in)
    reference = official_delta(x, adapter.generator, d_in, d_out, r, 2 * r, chunk)
    b, a = adapter.weights()
    ours = adapter.scale * (x @ a.T) @ b.T  # the generated update, before the starting one is subtracted
    assert ((ours - reference).abs().max() / reference.abs().max()).item() <= TOLERANCE
    # and gradients: the same function of the same parameters
    weights = torch.linspace(-1, 1, reference.numel()).reshape(reference.shape)
    ours_grads = torch.autograd.grad((ours * weights).sum(), list(adapter.generator.parameters()))
    reference_grads = torch.autograd.grad((reference * weights).sum(), list(adapter.generator.parameters()))
    for got, expected in zip(ours_grads, reference_grads):
        assert (got - expected).abs().max().item() <= GRADIENT_TOLERANCE * max(1.0, expected.abs().max().item())


def test_the_circuit_has_a_wire_per_halving_and_angles_drawn_as_torchquantum_draws_them():
    torch.manual_seed(0)
    adapter = layer(896, 896, 8, 128, 2, [16, 16])  # 14336 weights, 112 chunks: 7 wires
    assert adapter.generator.chunks == 112 and adapter.generator.n_qubits == 7
    assert adapter.generator.angles.shape == (2, 7) and adapter.generator.angles.abs().max() <= math.pi
    probabilities = adapter.generator.probabilities()
    assert probabilities.shape == (128,) and abs(probabilities.sum().item() - 1) <= 1e-5


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_the_update_starts_at_exactly_zero_and_every_parameter_learns(dropout):
    torch.manual_seed(0)
    adapter = layer(64, 48, 4, 32, 2, [8, 8], dropout=dropout).eval()  # eval: dropout off, as a first evaluation
    x = torch.randn(2, 5, 64)
    assert torch.equal(adapter(x), torch.zeros(2, 5, 48))
    assert torch.equal(adapter.delta_weight(), torch.zeros(48, 64))
    adapter.train()
    (adapter(x) * torch.linspace(-1, 1, 48)).sum().backward()
    for name, parameter in adapter.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_a_frozen_adapter_generates_once_and_regenerates_after_a_reload():
    torch.manual_seed(0)
    adapter = layer(64, 48, 4, 32, 1, [8]).eval()
    adapter.requires_grad_(False)
    calls = []
    original = adapter.generator.forward
    adapter.generator.forward = lambda: calls.append(1) or original()
    x = torch.randn(3, 64)
    first = adapter(x)
    adapter(x)
    assert len(calls) == 1 and torch.equal(first, torch.zeros(3, 48))
    state = {k: v + 0.1 if k.startswith("generator.mapping.0") else v for k, v in adapter.state_dict().items()}
    adapter.load_state_dict(state)
    assert not torch.equal(adapter(x), first) and len(calls) == 2


def qpa_model(**flags):
    torch.manual_seed(0)
    config = FinetuningArguments(finetuning_type="qpa", **flags).peft_config()
    return get_peft_model(load_model("qllm-tiny"), config)


def qpa_parameters(d_in: int, d_out: int, r: int, chunk: int, depth: int, widths: list[int]) -> int:
    """docs/adapters.md's count for one adapted layer: angles + the mapping network's Linear layers."""
    chunks = math.ceil(r * (d_in + d_out) / chunk)
    n = max(1, math.ceil(math.log2(chunks)))
    sizes = [n + 1, *widths, chunk]
    return depth * n + sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def test_the_parameter_count_follows_the_documented_formula():
    # qllm-tiny: q_proj 128 -> 128, v_proj 128 -> 64, 4 layers
    per_layer = qpa_parameters(128, 128, 8, 128, 1, [16, 16]) + qpa_parameters(128, 64, 8, 128, 1, [16, 16])
    assert qpa_model().get_nb_trainable_parameters()[0] == 4 * per_layer
    per_layer = qpa_parameters(128, 128, 4, 64, 3, [8]) + qpa_parameters(128, 64, 4, 64, 3, [8])
    model = qpa_model(lora_rank=4, qpa_chunk_size=64, q_depth=3, qpa_hidden="8")
    assert model.get_nb_trainable_parameters()[0] == 4 * per_layer


def test_the_documented_qwen_counts():
    """docs/adapters.md's table row for qpa (24 layers, q_proj 896 -> 896, v_proj 896 -> 128), against LoRA's."""
    qpa = 24 * (qpa_parameters(896, 896, 8, 128, 1, [16, 16]) + qpa_parameters(896, 128, 8, 128, 1, [16, 16]))
    lora = 24 * 8 * ((896 + 896) + (896 + 128))
    assert (qpa, lora) == (124_344, 540_672)
    torch.manual_seed(0)
    built = [layer(896, d_out, 8, 128, 1, [16, 16]) for d_out in (896, 128)]  # the adapter's own parameters
    assert 24 * sum(p.numel() for adapter in built for p in adapter.parameters()) == qpa
    assert f"{qpa:,}" in (qllm_root() / "docs" / "adapters.md").read_text()


def qllm_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("flags", "field", "said"),
    [
        ({"qpa_chunk_size": "0"}, "qpa_chunk_size", "at least 1"),
        ({"qpa_hidden": "16,-4"}, "qpa_hidden", "at least 1"),
        ({"qpa_hidden": "16,x"}, "qpa_hidden", "comma-separated"),
        ({"lora_rank": "0"}, "lora_rank", "at least 1"),
    ],
)
def test_bad_qpa_flags_are_named(tmp_path, flags, field, said):
    from qllm.hparams.parser import get_train_args

    argv = ["--model_name_or_path", "qllm-tiny", "--dataset", "identity", "--output_dir", str(tmp_path)]
    argv += ["--finetuning_type", "qpa"]
    for key, value in flags.items():
        argv += [f"--{key}", value]
    with pytest.raises(ArgumentError, match=said) as caught:
        get_train_args(argv)
    assert caught.value.field == field


def test_a_chunk_larger_than_the_weights_is_named_when_the_model_is_known():
    from qllm.adapters.attach import attach_adapter

    too_big = FinetuningArguments(finetuning_type="qpa", qpa_chunk_size=5000)
    with pytest.raises(ArgumentError, match="at most 2048") as caught:  # q_proj: 8 x (128 + 128) weights
        attach_adapter(load_model("qllm-tiny"), too_big, None, True)
    assert caught.value.field == "qpa_chunk_size"


def test_qllm_export_folds_a_trained_qpa_adapter_into_a_plain_model(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from qllm.cli import main

    model = qpa_model()
    with torch.no_grad():  # as after training: the generated update is no longer the starting one
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn_like(parameter))
    model.save_pretrained(tmp_path / "qpa")
    flags = ["--model_name_or_path", "qllm-tiny", "--adapter_name_or_path", str(tmp_path / "qpa")]
    assert main(["export", *flags, "--export_dir", str(tmp_path / "merged")]) == 0
    ids = torch.tensor([[1, 318, 201, 37, 334, 2, 1, 317, 201]])
    plain = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    with torch.no_grad():
        merged = plain(ids).logits
        adapted = PeftModel.from_pretrained(load_model("qllm-tiny"), tmp_path / "qpa")(ids).logits
        base = load_model("qllm-tiny")(ids).logits
    assert (adapted - base).abs().max().item() > 1e-3  # the adapter changes the model, and the export keeps that
    assert (merged - adapted).abs().max().item() <= 1e-5 * adapted.abs().max().item()
    assert not any("qpa" in name for name, _ in plain.named_modules())


def test_limits_that_depend_on_layer_shapes_are_checked_before_a_run_writes_anything(tmp_path):
    """The board's Start and compare's plan build the model on the meta device and run each method's layer check."""
    from qllm.adapters.attach import check_new_adapter
    from qllm.compare.workflow import plan_compare

    with pytest.raises(ArgumentError, match="at most 1536") as caught:  # v_proj, the smaller layer, binds
        check_new_adapter("qllm-tiny", FinetuningArguments(finetuning_type="qpa", qpa_chunk_size=5000), None)
    assert caught.value.field == "qpa_chunk_size"
    with pytest.raises(ArgumentError, match="at least 128") as caught:  # quanTA's axes must cover the input
        check_new_adapter("qllm-tiny", FinetuningArguments(finetuning_type="quanTA", per_dim_features="2,2,2,2"), None)
    assert caught.value.field == "per_dim_features"
    check_new_adapter("qllm-tiny", FinetuningArguments(finetuning_type="qpa"), None)  # the defaults fit
    with pytest.raises(ArgumentError) as caught:
        plan_compare(["--methods", "lora,qpa", "--preset", "quick", "--qpa_chunk_size", "5000"])
    assert caught.value.field == "qpa_chunk_size"
