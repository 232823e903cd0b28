"""The peft config fields `vqc` and `tq` share: the circuit's size and the update's scale."""

from __future__ import annotations

from dataclasses import dataclass, field

from qllm.adapters.config import TargetedConfig
from qllm.methods import MAX_QUBITS


@dataclass
class CircuitConfig(TargetedConfig):
    """A measured variational circuit as an additive update of each target Linear.

    y = W x + (alpha / n) * B(Q q + C h),  h = A dropout(x),  q = <Z>(Circuit(h)).
    Subclasses name the simulator through their peft type.
    """

    n_qubits: int = field(default=8, metadata={"help": f"Qubits of the circuit (1-{MAX_QUBITS})."})
    q_depth: int = field(default=1, metadata={"help": "Circuit layers; each re-uploads the data."})
    alpha: float = field(default=16.0, metadata={"help": "The update is scaled by alpha / n_qubits."})
    dropout: float = field(default=0.0, metadata={"help": "Dropout on the adapter's input."})
