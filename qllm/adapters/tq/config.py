from __future__ import annotations

from dataclasses import dataclass

from peft.utils import PeftType

from qllm.adapters.vqc.config import VQCConfig


@dataclass
class TQConfig(VQCConfig):
    """The `vqc` circuit and update, simulated with torchquantum instead of pyvqnet."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = PeftType.TQ
