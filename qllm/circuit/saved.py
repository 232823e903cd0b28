"""The circuits of a saved vqc / tq adapter, read from its files without loading any model.

One circuit per adapted module: its trained angles, and where its classical maps A, Q, C, B
sit in `adapter_model.safetensors` (what another simulator needs to run the adapter's quantum
part and put its output back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from qllm.circuit import CIRCUIT_METHODS
from qllm.constants import ADAPTER_WEIGHTS
from qllm.errors import ArgumentError
from qllm.model.saved_adapter import check_saved_adapter, read_adapter_config

PEFT_PREFIX = "base_model.model."  # peft's prefix of every saved key
MAPS = ("A", "Q", "C", "B")  # h = A x;  output = B((Q q + C h) * scaling), q_i = <Z_i>


@dataclass
class SavedCircuit:
    """The circuit of one adapted module."""

    module: str  # the adapted module's name in the model, e.g. model.layers.0.self_attn.q_proj
    method: str  # vqc or tq
    ry: torch.Tensor  # (q_depth, 2, n) trained RY angles
    crz: torch.Tensor  # (q_depth, 2, n) trained CRZ angles (n = 1: (q_depth, 2, 0))
    scaling: float  # alpha / n_qubits
    maps: dict[str, str] = field(default_factory=dict)  # A, Q, C, B -> its key in adapter_model.safetensors
    shapes: dict[str, list[int]] = field(default_factory=dict)  # A, Q, C, B -> its shape

    @property
    def n_qubits(self) -> int:
        return self.ry.shape[2]

    @property
    def q_depth(self) -> int:
        return self.ry.shape[0]


def no_circuit(method: str, field_name: str = "finetuning_type") -> ArgumentError:
    """The one line for a method without a circuit (quanTA, lora)."""
    return ArgumentError(
        field_name,
        f"a {method} adapter has no circuit to draw; circuits belong to {' and '.join(CIRCUIT_METHODS)} adapters",
    )


def read_circuits(folder: str | Path) -> dict[str, SavedCircuit]:
    """module name -> its circuit, in the model's order; ArgumentError (one line) when there is none to read."""
    from safetensors import safe_open

    method = check_saved_adapter(folder)
    if method.name not in CIRCUIT_METHODS:
        raise no_circuit(method.name, "adapter_name_or_path")
    config = read_adapter_config(folder)
    circuits: dict[str, SavedCircuit] = {}
    with safe_open(str(Path(folder) / ADAPTER_WEIGHTS), framework="pt") as weights:
        keys = list(weights.keys())
        for key in keys:
            if not key.endswith(".ry_angles"):
                continue
            stem = key.removesuffix(".ry_angles")  # base_model.model.<module>.<method>_circuit
            module = stem.removeprefix(PEFT_PREFIX).rsplit(".", 1)[0]
            own = [k for k in keys if k.startswith(f"{stem}.")]
            maps = {name: k for name in MAPS for k in own if k.endswith(f".{name}.weight")}
            ry, crz = weights.get_tensor(key), weights.get_tensor(f"{stem}.crz_angles")
            circuits[module] = SavedCircuit(
                module,
                method.name,
                ry.float(),
                crz.float(),
                float(config.get("alpha", 2 * ry.shape[2])) / ry.shape[2],
                maps,
                {name: list(weights.get_slice(k).get_shape()) for name, k in maps.items()},
            )
    if not circuits:
        raise ArgumentError("adapter_name_or_path", f"{Path(folder) / ADAPTER_WEIGHTS} holds no circuit angles")
    return circuits


def pick_circuit(circuits: dict[str, SavedCircuit], module: str | None) -> SavedCircuit:
    """The circuit of ``module`` (default: the first adapted one); ArgumentError naming the modules there are."""
    if module is None:
        return next(iter(circuits.values()))
    if module in circuits:
        return circuits[module]
    ends = [name for name in circuits if name.endswith(f".{module}") or name.endswith(module)]
    if len(ends) == 1:  # a unique tail is enough: layers.0.self_attn.q_proj
        return circuits[ends[0]]
    listed = ", ".join(list(circuits)[:4]) + (", ..." if len(circuits) > 4 else "")
    said = f"no adapted module '{module}' (there are {len(circuits)}: {listed}); --list names them all"
    raise ArgumentError("module", said)
