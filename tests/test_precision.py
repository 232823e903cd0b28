"""Half precision: every adapter computes in float32 whatever the base dtype and the autocast state.

CPU bf16 autocast and bf16/fp16 base weights take the code paths a GPU's fp16/bf16 take.
The matrix: base dtype x autocast x method (x circuit depth): the adapter's additive
update equals the float32 computation on the same input to 1e-5 (relative to its
largest entry); training 3 steps gives finite losses; a saved adapter reloads exactly.
"""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch
from peft import PeftModel, get_peft_model

from qllm.adapters.circuit.ansatz import fast_expvals, init_circuit_weights, reference_expvals
from qllm.adapters.circuit.pyvqnet_simulator import PyvqnetSimulator
from qllm.errors import ArgumentError
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.hparams.parser import get_train_args
from qllm.model.loader import load_model
from qllm.paths import DATA_DIR
from qllm.train.log_file import read_log
from qllm.train.workflow import run_train

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
METHODS = {
    "lora": {"finetuning_type": "lora"},
    "vqc depth 1": {"finetuning_type": "vqc"},
    "vqc depth 2": {"finetuning_type": "vqc", "q_depth": 2},
    "tq depth 1": {"finetuning_type": "tq"},
    "tq depth 2": {"finetuning_type": "tq", "q_depth": 2},
    "quanTA frozen_copy": {"finetuning_type": "quanTA", "per_dim_features": "8,4,2,2"},
    "quanTA zero_last": {"finetuning_type": "quanTA", "per_dim_features": "8,4,2,2", "quanta_init": "zero_last"},
    "qpa": {"finetuning_type": "qpa"},
}
TOLERANCE = 1e-5
# peft's own LoRA runs its Linears inside autocast like any other layer: in bf16 under bf16 autocast.
LORA_AUTOCAST_TOLERANCE = 2e-2


def autocast(enabled: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    return ((value.float() - reference).abs().max() / reference.abs().max()).item()


def adapted_model(method: str, dtype: torch.dtype):
    """qllm-tiny in ``dtype`` with ``method``'s adapter, moved off the identity start."""
    model = get_peft_model(load_model("qllm-tiny", dtype=dtype), FinetuningArguments(**METHODS[method]).peft_config())
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in (p for p in model.parameters() if p.requires_grad):
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    return model


def first_adapted_layer(model):
    return model.base_model.model.model.layers[0].self_attn.q_proj


def adapted_layer(method: str, dtype: torch.dtype):
    """The first q_proj of `adapted_model`."""
    return first_adapted_layer(adapted_model(method, dtype))


def update(layer, x: torch.Tensor) -> torch.Tensor:
    """The layer's additive update on x, as the layer computes it."""
    if hasattr(layer, "lora_A"):
        lora_a, lora_b = layer.lora_A["default"], layer.lora_B["default"]
        return lora_b(lora_a(x.to(lora_a.weight.dtype))) * layer.scaling["default"]
    return layer.adapter_update("default", x)


def float32_update(layer, x: torch.Tensor) -> torch.Tensor:
    """The same update computed by a float32 copy of the adapter, autocast off."""
    if hasattr(layer, "lora_A"):
        lora_a, lora_b = copy.deepcopy(layer.lora_A["default"]).float(), copy.deepcopy(layer.lora_B["default"]).float()
        return lora_b(lora_a(x.float())) * layer.scaling["default"]
    return copy.deepcopy(layer.adapters["default"]).float()(x.float())


@pytest.mark.parametrize("with_autocast", [False, True], ids=["no autocast", "bf16 autocast"])
@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("method", list(METHODS))
def test_adapter_update_is_the_float32_update(method, dtype, with_autocast):
    layer = adapted_layer(method, DTYPES[dtype])
    x = torch.randn(2, 5, layer.in_features, generator=torch.Generator().manual_seed(1)).to(DTYPES[dtype])
    with torch.no_grad():
        with autocast(with_autocast):
            value = update(layer, x)
            output = layer(x)
        reference = float32_update(layer, x)
    if method == "lora" and with_autocast:
        assert relative_error(value, reference) <= LORA_AUTOCAST_TOLERANCE
    else:
        assert value.dtype == torch.float32
        assert relative_error(value, reference) <= TOLERANCE
    expected_output_dtype = torch.bfloat16 if with_autocast else DTYPES[dtype]
    assert output.dtype == expected_output_dtype and torch.isfinite(output).all()
    assert all(p.dtype == torch.float32 for p in layer.parameters() if p.requires_grad)
    assert all(b.dtype == torch.float32 for name, b in layer.named_buffers() if "frozen" in name)


@pytest.mark.parametrize("method", ["vqc depth 2", "quanTA frozen_copy"])
def test_compiled_model_under_bf16_autocast_trains_as_eager(method):
    """torch.compile traces the adapters' autocast-off blocks (an ExitStack there failed --torch_compile --bf16),
    and pyvqnet's gate-by-gate runs stay eager (its QMachine cannot be traced)."""
    torch.manual_seed(0)
    model = get_peft_model(load_model("qllm-tiny"), FinetuningArguments(**METHODS[method]).peft_config())
    ids = torch.tensor([[3, 14, 15, 92, 65, 35]])
    losses = []
    for forward in (model, torch.compile(model, backend="aot_eager")):  # dynamo's tracing, without codegen time
        with autocast(True):
            loss = forward(input_ids=ids, labels=ids).loss
        loss.backward()
        losses.append(loss.item())
    assert losses[1] == pytest.approx(losses[0], rel=1e-3)


@pytest.mark.parametrize("depth", [1, 2])
def test_circuit_helpers_ignore_autocast(depth):
    generator = torch.Generator().manual_seed(2)
    angles = torch.rand(6, 4, generator=generator) * 3
    ry, crz = init_circuit_weights(4, depth, generator)
    simulator = PyvqnetSimulator()
    expected = reference_expvals(simulator, angles, ry, crz)
    with autocast(True):
        fast = fast_expvals(simulator, angles.bfloat16(), ry, crz)
        reference = reference_expvals(simulator, angles, ry, crz)
    assert fast.dtype == torch.float32 and reference.dtype == torch.float32
    # bf16 inputs are upcast, so the angles themselves are rounded: compare with the same rounded angles
    assert (fast - reference_expvals(simulator, angles.bfloat16().float(), ry, crz)).abs().max() <= TOLERANCE
    assert (reference - expected).abs().max() <= TOLERANCE


@pytest.mark.parametrize("method", ["vqc depth 1", "tq depth 2"])
def test_a_training_forward_builds_the_circuits_in_float32_under_autocast(method):
    """The tuner builds every adapter's unitaries for the step outside the adapters, where the Trainer's autocast
    is on: that build must be float32 too (it once ran in bf16 and was upcast afterwards)."""
    model = adapted_model(method, torch.float32)
    layer, seen = first_adapted_layer(model), {}
    layer.adapters["default"].register_forward_hook(lambda module, args, output: seen.update(x=args[0], update=output))
    with torch.no_grad(), autocast(True):
        model(input_ids=torch.tensor([[3, 14, 15, 92, 65, 35]]))
    assert relative_error(seen["update"], float32_update(layer, seen["x"])) <= TOLERANCE


TRAIN_METHODS = ["lora", "vqc depth 2", "tq depth 1", "quanTA frozen_copy", "quanTA zero_last"]


@pytest.mark.parametrize("compute_flag", ["--bf16", "--pure_bf16"])
@pytest.mark.parametrize("method", TRAIN_METHODS)
def test_three_steps_train_finite_and_round_trip(tmp_path, method, compute_flag):
    flags = [
        "--model_name_or_path",
        "qllm-tiny",
        "--dataset",
        "identity",
        "--dataset_dir",
        str(DATA_DIR),
        "--max_samples",
        "12",
        "--max_steps",
        "3",
        "--logging_steps",
        "1",
        "--learning_rate",
        "1e-2",
        "--per_device_train_batch_size",
        "4",
        "--output_dir",
        str(tmp_path / "run"),
        compute_flag,
    ]
    for key, value in METHODS[method].items():
        flags += [f"--{key}", str(value)]
    outcome = run_train(flags)
    losses = [record["loss"] for record in read_log(tmp_path / "run") if record.get("loss") is not None]
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    base_dtype = torch.bfloat16 if compute_flag == "--pure_bf16" else torch.float32
    trained = outcome.model.eval().requires_grad_(False)  # frozen as the reloaded one: the same computation
    assert trained.get_base_model().model.embed_tokens.weight.dtype == base_dtype
    ids = torch.tensor([[3, 14, 15, 92, 65]])
    reloaded = PeftModel.from_pretrained(load_model("qllm-tiny", dtype=base_dtype), str(tmp_path / "run")).eval()
    with torch.no_grad(), autocast(compute_flag == "--bf16"):  # accelerate leaves the trained forward autocast
        assert (trained(ids).logits.float() - reloaded(ids).logits.float()).abs().max() <= TOLERANCE


@pytest.mark.parametrize("method", TRAIN_METHODS)
def test_three_steps_on_float16_weights_are_finite(method):
    """fp16 base weights (the GPU --fp16 layout) on the CPU: float32 adapters learn, losses stay finite."""
    model = get_peft_model(
        load_model("qllm-tiny", dtype=torch.float16), FinetuningArguments(**METHODS[method]).peft_config()
    )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    ids = torch.randint(0, 1000, (2, 16), generator=torch.Generator().manual_seed(3))
    for _ in range(3):
        loss = model(input_ids=ids, labels=ids).loss
        assert torch.isfinite(loss)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--pure_bf16", "--fp16"], "pure_bf16"),
        (["--bf16", "--fp16"], "bf16"),
        (["--infer_dtype", "half"], "infer_dtype"),
    ],
)
def test_conflicting_compute_types_are_one_line(tmp_path, flags, field):
    base = ["--model_name_or_path", "qllm-tiny", "--dataset", "identity", "--output_dir", str(tmp_path / "x")]
    with pytest.raises(ArgumentError) as caught:
        get_train_args(base + flags)
    assert caught.value.field == field
    assert not (tmp_path / "x").exists()


def test_bf16_without_support_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "DEFAULT")
    base = ["--model_name_or_path", "qllm-tiny", "--dataset", "identity", "--output_dir", str(tmp_path / "x")]
    with pytest.raises(ArgumentError, match="no bfloat16 support") as caught:
        get_train_args([*base, "--bf16"])
    assert caught.value.field == "bf16"
