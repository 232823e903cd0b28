"""vqc / tq / quanTA / qpa: registered with peft, exact at the start, cross-checked, saved and loaded.

Tolerances: float32 / complex64 arithmetic, so 1e-5 (relative to the magnitude for
gradients, which sum many terms) between formulations that differ only in the order of
operations; 1e-6 where nothing should differ at all (the identity at the start).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import qllm  # noqa: F401 - registers the methods with peft
from qllm.adapters.circuit.ansatz import fast_expvals, init_circuit_weights, layer_unitaries, reference_expvals
from qllm.adapters.circuit.pyvqnet_simulator import PyvqnetSimulator
from qllm.adapters.circuit.torchquantum_simulator import TorchquantumSimulator
from qllm.errors import ArgumentError
from qllm.model.loader import load_model
from qllm.paths import TINY_MODEL_DIR

SIMULATORS = {"pyvqnet": PyvqnetSimulator(), "torchquantum": TorchquantumSimulator()}
METHOD_ARGS = {
    "vqc": {"finetuning_type": "vqc"},
    "tq": {"finetuning_type": "tq"},
    "quanTA": {"finetuning_type": "quanTA", "per_dim_features": "8,4,2,2"},
    "quanTA zero_last": {"finetuning_type": "quanTA", "per_dim_features": "8,4,2,2", "quanta_init": "zero_last"},
    "qpa": {"finetuning_type": "qpa"},
}
IDS = torch.tensor([[1, 318, 201, 37, 334, 326, 86, 223, 25, 693, 2, 1, 317, 201]])


def peft_model(method: str, **overrides):
    from peft import get_peft_model

    from qllm.hparams.finetuning_args import FinetuningArguments

    torch.manual_seed(0)
    return get_peft_model(
        load_model("qllm-tiny"), FinetuningArguments(**{**METHOD_ARGS[method], **overrides}).peft_config()
    )


def perturb(model) -> None:
    """Random adapter weights, as after training (the zero-initialised parts included)."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, parameter in model.named_parameters():
            if parameter.requires_grad:
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))


def circuit_case(n_qubits: int, q_depth: int, tokens: int = 12):
    generator = torch.Generator().manual_seed(n_qubits * 10 + q_depth)
    angles = (2 * torch.randn(tokens, n_qubits, generator=generator)).requires_grad_()
    ry, crz = init_circuit_weights(n_qubits, q_depth, generator)
    return angles, ry.requires_grad_(), crz.requires_grad_()


def value_and_grads(run, simulator, angles, ry, crz):
    out = run(simulator, angles, ry, crz)
    weights = torch.linspace(-1, 1, out.numel()).reshape(out.shape)  # a loss that uses every output differently
    grads = torch.autograd.grad((out * weights).sum(), [angles, ry, crz], allow_unused=True)
    return out, [g if g is not None else torch.zeros(0) for g in grads]


def assert_close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> None:
    scale = max(1.0, b.abs().max().item()) if b.numel() else 1.0
    assert (a - b).abs().max().item() <= tol * scale if a.numel() else b.numel() == 0


@pytest.mark.parametrize("simulator", list(SIMULATORS))
@pytest.mark.parametrize(("n_qubits", "q_depth"), [(1, 1), (2, 1), (3, 2), (5, 1), (8, 1), (8, 2)])
def test_fast_path_matches_gate_by_gate_simulation(simulator, n_qubits, q_depth):
    case = circuit_case(n_qubits, q_depth)
    fast, fast_grads = value_and_grads(fast_expvals, SIMULATORS[simulator], *case)
    slow, slow_grads = value_and_grads(reference_expvals, SIMULATORS[simulator], *case)
    assert_close(fast, slow)
    for ours, reference in zip(fast_grads, slow_grads):
        assert_close(ours, reference)


@pytest.mark.parametrize("gathers", ["one gather", "two halves"])
@pytest.mark.parametrize("simulator", list(SIMULATORS))
@pytest.mark.parametrize("n_qubits", [1, 2, 3, 8])
def test_the_fused_training_forward_equals_the_composed_adapter(simulator, n_qubits, gathers, monkeypatch):
    """`OneLayerCircuitAdapter` (backward written out) against autograd through the composed adapter, whose
    circuit the test above holds to the gate-by-gate simulation: outputs and every gradient to 1e-5; with the
    product state of a short batch (one gather) and of a long one (two halves)."""
    from qllm.adapters.circuit import fused
    from qllm.adapters.circuit.adapter import CircuitAdapter
    from qllm.hparams.finetuning_args import FinetuningArguments

    if gathers == "two halves":
        monkeypatch.setattr(fused, "ONE_GATHER_MAX_ELEMENTS", 0)

    torch.manual_seed(n_qubits)
    config = FinetuningArguments(finetuning_type="vqc", n_qubits=n_qubits).peft_config()
    adapter = CircuitAdapter(24, 20, config, SIMULATORS[simulator])
    with torch.no_grad():
        for parameter in adapter.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    assert adapter.fuses()
    x = torch.randn(3, 5, 24, requires_grad=True)
    inputs = [
        x,
        *(m.weight for m in (adapter.A, adapter.Q, adapter.C, adapter.B)),
        adapter.ry_angles,
        adapter.crz_angles,
    ]
    fused = adapter(x)
    weights = torch.linspace(-1, 1, fused.numel()).reshape(fused.shape)
    fused_grads = torch.autograd.grad((fused * weights).sum(), inputs, allow_unused=True)  # one wire: no CRZ
    composed = adapter.unfused_forward(x)
    composed_grads = torch.autograd.grad((composed * weights).sum(), inputs, allow_unused=True)
    assert [g is None for g in fused_grads] == [g is None for g in composed_grads] == [False] * 6 + [n_qubits == 1]
    assert_close(fused, composed)
    for ours, reference in zip(fused_grads[:6], composed_grads[:6]):
        assert_close(ours, reference)


def test_the_fused_backward_passes_gradcheck_in_float64():
    from qllm.adapters.circuit.ansatz import layer_unitaries
    from qllm.adapters.circuit.fused import OneLayerCircuitAdapter

    generator = torch.Generator().manual_seed(3)
    n, d_in, d_out = 3, 5, 4
    ry, crz = init_circuit_weights(n, 1, generator)
    unitary = layer_unitaries(SIMULATORS["torchquantum"], ry, crz).double()  # (1, 2^n, 2^(n+1)): one layer
    shapes = [(6, d_in), (n, d_in), (n, n), (n, n), (d_out, n)]
    inputs = [torch.randn(*shape, generator=generator, dtype=torch.float64) for shape in shapes] + [unitary]
    inputs = [tensor.requires_grad_() for tensor in inputs]
    assert torch.autograd.gradcheck(lambda *args: OneLayerCircuitAdapter.apply(*args, 0.7), inputs)


@pytest.mark.parametrize("n_qubits", [2, 3, 4, 5])
def test_the_layer_build_backward_passes_gradcheck_in_float64(n_qubits):
    """`LayerUnitaries`' written-out backward (odd and even widths: one or two Kronecker products), on any
    real 2x2 matrices and phases, so that every entry it differentiates is free."""
    from qllm.adapters.circuit.ansatz import _both_ring_selectors
    from qllm.adapters.circuit.layer_build import LayerUnitaries

    generator = torch.Generator().manual_seed(n_qubits)
    rotations = torch.randn(2, 2, n_qubits, 2, 2, generator=generator, dtype=torch.float64, requires_grad=True)
    phases = torch.randn(2, 2, n_qubits, 4, generator=generator, dtype=torch.float64, requires_grad=True)
    selectors = _both_ring_selectors(n_qubits, torch.device("cpu"))
    assert torch.autograd.gradcheck(lambda r, p: LayerUnitaries.apply(r, p, selectors), (rotations, phases))


@pytest.mark.parametrize(("n_qubits", "q_depth"), [(2, 1), (4, 2), (8, 1)])
def test_pyvqnet_and_torchquantum_agree(n_qubits, q_depth):
    case = circuit_case(n_qubits, q_depth)
    for run in (reference_expvals, fast_expvals):
        vqc, vqc_grads = value_and_grads(run, SIMULATORS["pyvqnet"], *case)
        tq, tq_grads = value_and_grads(run, SIMULATORS["torchquantum"], *case)
        assert_close(vqc, tq)
        for a, b in zip(vqc_grads, tq_grads):
            assert_close(a, b)


def test_vqc_and_tq_layers_give_the_same_outputs_with_the_same_parameters():
    vqc, tq = peft_model("vqc"), peft_model("tq")
    perturb(vqc)
    tq_state = {k.replace("vqc_circuit", "tq_circuit"): v for k, v in vqc.state_dict().items()}
    tq.load_state_dict(tq_state)
    with torch.no_grad():
        assert_close(vqc(IDS).logits, tq(IDS).logits)


@pytest.mark.parametrize("method", list(METHOD_ARGS))
def test_each_adapter_starts_as_an_exact_identity(method):
    base = load_model("qllm-tiny")
    model = peft_model(method)
    with torch.no_grad():
        expected = base(IDS).logits
        got = model(IDS).logits
    if method == "quanTA":
        # its update T - S is exactly zero; a training forward folds S into a copy of the base weight,
        # (W - dense(S)) x + T(x), which equals W x to float32 rounding
        layer = model.base_model.model.model.layers[0].self_attn.q_proj
        assert layer.folding_adapter() == "default"
        x = torch.randn(5, layer.in_features)
        assert torch.equal(layer.adapters["default"](x), torch.zeros(5, layer.out_features))
        assert_close(got, expected)
    else:
        assert (got - expected).abs().max().item() <= 1e-6


@pytest.mark.parametrize("method", list(METHOD_ARGS))
def test_gradients_reach_every_adapter_parameter_and_nothing_else_trains(method):
    model = peft_model(method)
    perturb(model)
    model(IDS, labels=IDS).loss.backward()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(model.peft_config["default"].peft_type.value.lower() in n for n in trainable)
    for name, parameter in trainable.items():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    assert all(not p.requires_grad for n, p in model.named_parameters() if n not in trainable)


def test_trainable_parameter_counts_follow_the_formulas():
    # qllm-tiny: q_proj 128 -> 128, v_proj 128 -> 64, 4 layers
    n, depth = 8, 1
    per_layer = sum(n * (d_in + d_out) + 2 * n * n + 4 * n * depth for d_in, d_out in ((128, 128), (128, 64)))
    assert peft_model("vqc").get_nb_trainable_parameters()[0] == 4 * per_layer
    pairs = [(8, 4), (8, 2), (8, 2), (4, 2), (4, 2), (2, 2)]
    assert peft_model("quanTA").get_nb_trainable_parameters()[0] == 8 * sum((a * b) ** 2 for a, b in pairs)


@pytest.mark.parametrize("method", list(METHOD_ARGS))
def test_saved_adapter_reproduces_the_model_in_a_fresh_process(method, tmp_path):
    model = peft_model(method).eval()
    perturb(model)
    with torch.no_grad():
        expected = model(IDS).logits
    model.save_pretrained(tmp_path / "adapter")
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == {"vqc": "VQC", "tq": "TQ", "qpa": "QPA"}.get(method, "QUANTA")
    assert any(
        keys <= set(config)
        for keys in ({"n_qubits", "q_depth", "alpha"}, {"q_d", "per_dim_features"}, {"r", "chunk_size", "hidden_sizes"})
    )
    script = (
        "import sys, torch, qllm\n"
        "from peft import PeftModel\n"
        "from transformers import AutoModelForCausalLM\n"
        f"base = AutoModelForCausalLM.from_pretrained({str(TINY_MODEL_DIR)!r})\n"
        f"model = PeftModel.from_pretrained(base, {str(tmp_path / 'adapter')!r}).eval()\n"
        "with torch.no_grad():  # as the expected logits were computed\n"
        f"    torch.save(model(torch.tensor({IDS.tolist()})).logits, {str(tmp_path / 'logits.pt')!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, capture_output=True)  # any folder
    # loaded frozen, it computes through its kept build (quanTA: one dense matrix; qpa: B, A): float32 rounding
    assert (torch.load(tmp_path / "logits.pt") - expected).abs().max().item() <= 1e-5 * expected.abs().max().item()


def test_import_qllm_is_light_and_registers_when_peft_loads(tmp_path):
    script = (
        "import sys, qllm\n"
        "assert 'torch' not in sys.modules, 'import qllm must not load torch'\n"
        "from peft import PeftType\n"
        "from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING\n"
        "print(sorted(t.value for t in PEFT_TYPE_TO_CONFIG_MAPPING if t.value in ('VQC', 'TQ', 'QUANTA', 'QPA')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "['QPA', 'QUANTA', 'TQ', 'VQC']"


@pytest.mark.parametrize("method", ["quanTA", "quanTA zero_last", "qpa"])
def test_linear_adapters_merge_and_unmerge_exactly(method):
    model = peft_model(method).eval()
    perturb(model)
    layer = model.base_model.model.model.layers[0].self_attn.q_proj
    weight = layer.base_layer.weight.detach().clone()
    with torch.no_grad():
        unmerged = model(IDS).logits
        model.merge_adapter()
        assert_close(model(IDS).logits, unmerged)
        model.unmerge_adapter()
        assert_close(layer.base_layer.weight, weight, 1e-6)
        merged_plain = model.merge_and_unload()
        assert not any(name.endswith(("_tensors", "_generator")) for name, _ in merged_plain.named_modules())
        assert_close(merged_plain(IDS).logits, unmerged)


@pytest.mark.parametrize("method", ["vqc", "tq"])
def test_circuit_adapters_refuse_to_merge_with_a_reason(method):
    model = peft_model(method)
    with pytest.raises(ValueError, match="not a linear map"):
        model.merge_and_unload()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"finetuning_type": "vqc", "n_qubits": "0"}, "n_qubits"),
        ({"finetuning_type": "tq", "n_qubits": "17"}, "n_qubits"),
        ({"finetuning_type": "vqc", "q_depth": "0"}, "q_depth"),
        ({"finetuning_type": "quanTA", "q_d": "3"}, "per_dim_features"),
        ({"finetuning_type": "quanTA", "per_dim_features": "16,x"}, "per_dim_features"),
    ],
)
def test_bad_method_arguments_are_named(tmp_path, override, field):
    from qllm.hparams.parser import get_train_args

    flags = ["--model_name_or_path", "qllm-tiny", "--dataset", "identity", "--output_dir", str(tmp_path)]
    for key, value in override.items():
        flags += [f"--{key}", value]
    with pytest.raises(ArgumentError) as caught:
        get_train_args(flags)
    assert caught.value.field == field


def test_per_dim_features_too_small_and_unknown_targets_are_named():
    from qllm.adapters.attach import attach_adapter, check_targets
    from qllm.hparams.finetuning_args import FinetuningArguments

    model = load_model("qllm-tiny")
    with pytest.raises(ArgumentError, match="at least 128") as caught:  # the layer's own check, as the flag
        attach_adapter(model, FinetuningArguments(finetuning_type="quanTA", per_dim_features="4,4,2,2"), None, True)
    assert caught.value.field == "per_dim_features"
    with pytest.raises(ArgumentError, match="available: .*q_proj") as caught:
        check_targets(model, FinetuningArguments(finetuning_type="vqc", lora_target="attn_out"))
    assert caught.value.field == "lora_target"


def test_adapter_of_another_base_model_or_no_adapter_is_named(tmp_path):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from qllm.adapters.attach import load_adapters

    peft_model("vqc").save_pretrained(tmp_path / "adapter")
    other = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=1050,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    )
    with pytest.raises(ArgumentError, match="do not fit this base model") as caught:
        load_adapters(other, str(tmp_path / "adapter"), is_trainable=False)
    assert caught.value.field == "adapter_name_or_path"
    with pytest.raises(ArgumentError, match="no adapter_config.json"):
        load_adapters(other, str(tmp_path), is_trainable=False)


def test_adapter_trained_on_another_model_of_the_same_shape_is_refused(tmp_path):
    from qllm.adapters.attach import load_adapters

    peft_model("quanTA").save_pretrained(tmp_path)
    config_file = tmp_path / "adapter_config.json"
    config = json.loads(config_file.read_text())
    assert Path(config["base_model_name_or_path"]).name == "qllm-tiny"
    load_adapters(load_model("qllm-tiny"), str(tmp_path), is_trainable=False)  # its own base loads

    config_file.write_text(json.dumps({**config, "base_model_name_or_path": "Qwen/Qwen2.5-0.5B-Instruct"}))
    with pytest.raises(ArgumentError, match="trained on Qwen/Qwen2.5-0.5B-Instruct") as caught:
        load_adapters(load_model("qllm-tiny"), str(tmp_path), is_trainable=False)
    assert caught.value.field == "adapter_name_or_path"


def test_quanta_chain_matches_a_brute_force_sum_over_indices():
    """Each pair tensor acts as out[..., i, ..., j, ...] = sum_kl G[i, j, k, l] in[..., k, ..., l, ...]."""
    import itertools

    from qllm.adapters.quanta import QuanTAConfig
    from qllm.adapters.quanta.layer import TensorAdapter

    features = [2, 3, 2]
    adapter = TensorAdapter(12, 12, QuanTAConfig(q_d=3, per_dim_features=features))
    generator = torch.Generator().manual_seed(0)
    tensors = [torch.randn(t.shape, generator=generator) for t in adapter.tensors]
    x = torch.randn(3, 12, generator=generator)
    expected = x.reshape(3, *features).clone()
    for (a, b), tensor in zip(adapter.pairs, tensors):
        result = torch.zeros_like(expected)
        for index in itertools.product(*(range(f) for f in features)):
            for k, m in itertools.product(range(features[a]), range(features[b])):
                source = list(index)
                source[a], source[b] = k, m
                result[(slice(None), *index)] += tensor[index[a], index[b], k, m] * expected[(slice(None), *source)]
        expected = result
    assert_close(adapter.chain(x, tensors), expected.reshape(3, 12))


@pytest.mark.parametrize("method", ["vqc", "tq"])
def test_one_batched_unitary_build_per_step_gives_the_per_adapter_gradients(method, monkeypatch):
    """The tuner builds every adapter's unitaries in one call; values and gradients equal each adapter's own build."""
    import qllm.adapters.circuit.tuner as tuner

    model = peft_model(method, q_depth=2)
    perturb(model)
    adapters = tuner.active_circuit_adapters(model)
    trainable = [p for p in model.parameters() if p.requires_grad]

    def loss_and_grads(forward):
        loss = forward(input_ids=IDS, labels=IDS).loss
        return loss.detach(), torch.autograd.grad(loss, trainable)

    builds = []
    monkeypatch.setattr(tuner, "layer_unitaries", lambda *a: builds.append(a[1].shape) or layer_unitaries(*a))
    batched_loss, batched = loss_and_grads(model)  # PeftModel -> CircuitTuner.forward: one build for all
    assert builds == [torch.Size([2 * len(adapters), 2, 8])] and len(adapters) == 8
    assert all(adapter.step_unitaries is None for adapter in adapters)  # handed out for that pass only
    alone_loss, alone = loss_and_grads(model.base_model.model)  # the bare model: each adapter builds its own
    assert_close(batched_loss, alone_loss)
    for a, b in zip(batched, alone):
        assert_close(a, b)


@pytest.mark.parametrize("n_qubits", [1, 2, 3, 5, 8])
def test_product_state_is_the_same_for_a_frozen_and_a_trainable_circuit(n_qubits):
    """Frozen, it is one gather over all wires; trainable, two halves joined: the same vector."""
    from qllm.adapters.circuit.ansatz import product_state

    angles = 2 * torch.randn(7, n_qubits, generator=torch.Generator().manual_seed(n_qubits))
    factors = [torch.stack((torch.cos(a / 2), torch.sin(a / 2))) for a in angles.T]  # wire 0 most significant
    expected = torch.stack([functools.reduce(torch.kron, [f[:, t] for f in factors]) for t in range(7)])
    with torch.no_grad():
        assert_close(product_state(angles, trainable=False), expected, 1e-6)
    assert_close(product_state(angles.requires_grad_(), trainable=True).detach(), expected, 1e-6)
