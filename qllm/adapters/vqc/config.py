from __future__ import annotations

from dataclasses import dataclass

from peft.utils import PeftType

from qllm.adapters.circuit.config import CircuitConfig
from qllm.methods import check_config


@dataclass
class VQCConfig(CircuitConfig):
    """The circuit of docs/adapters.md, simulated with pyvqnet."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = PeftType.VQC
        check_config(self)
