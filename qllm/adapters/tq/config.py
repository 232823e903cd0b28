from __future__ import annotations

from dataclasses import dataclass

from peft.utils import PeftType

from qllm.adapters.circuit.config import CircuitConfig
from qllm.methods import check_config


@dataclass
class TQConfig(CircuitConfig):
    """The `vqc` circuit and update, simulated with torchquantum instead of pyvqnet."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = PeftType.TQ
        check_config(self)
