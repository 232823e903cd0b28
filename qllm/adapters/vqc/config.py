from __future__ import annotations

from dataclasses import dataclass, field

from peft.utils import PeftType

from qllm.adapters.config import TargetedConfig
from qllm.hparams.finetuning_args import MAX_QUBITS


@dataclass
class VQCConfig(TargetedConfig):
    """A measured variational circuit as an additive update of each target Linear (pyvqnet).

    y = W x + (alpha / n) * B(Q q + C h),  h = A dropout(x),  q = <Z>(Circuit(h)).
    """

    n_qubits: int = field(default=8, metadata={"help": "Qubits of the circuit (1-16)."})
    q_depth: int = field(default=1, metadata={"help": "Circuit layers; each re-uploads the data."})
    alpha: float = field(default=16.0, metadata={"help": "The update is scaled by alpha / n_qubits."})
    dropout: float = field(default=0.0, metadata={"help": "Dropout on the adapter's input."})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = PeftType.VQC
        if not 1 <= self.n_qubits <= MAX_QUBITS:
            raise ValueError(f"n_qubits must be between 1 and {MAX_QUBITS}, got {self.n_qubits}")
        if self.q_depth < 1:
            raise ValueError(f"q_depth must be at least 1, got {self.q_depth}")
