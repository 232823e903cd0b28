from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from peft.utils import PeftType

from qllm.adapters.config import TargetedConfig

INIT_MODES = ("frozen_copy", "zero_last")


@dataclass
class QuanTAConfig(TargetedConfig):
    """Quantum-informed Tensor Adaptation (arXiv 2406.00132).

    The input is zero-padded to prod(per_dim_features) and viewed as q_d axes; one
    trainable tensor per pair of axes acts in sequence, like two-qubit gates on qudits.
    The update starts at exactly zero: by default as in the paper, T(x) - S(x) with S a
    frozen copy of T's starting tensors (every tensor receives gradients from the first
    step); or `zero_last`, the paper code's option with the last tensor zero (no S, about
    a third cheaper).
    """

    q_d: int = field(default=4, metadata={"help": "Number of tensor axes."})
    per_dim_features: list[int] = field(default_factory=lambda: [16, 8, 4, 2], metadata={"help": "Size of each axis."})
    dropout: float = field(default=0.0, metadata={"help": "Dropout on the adapter's input."})
    init_mode: str = field(default="frozen_copy", metadata={"help": "frozen_copy (paper) or zero_last."})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = PeftType.QUANTA
        self.per_dim_features = [int(f) for f in self.per_dim_features]
        if self.q_d < 2:
            raise ValueError(f"q_d must be at least 2 (a tensor acts on a pair of axes), got {self.q_d}")
        if len(self.per_dim_features) != self.q_d:
            raise ValueError(f"per_dim_features has {len(self.per_dim_features)} sizes but q_d is {self.q_d}")
        if min(self.per_dim_features) < 1:
            raise ValueError(f"per_dim_features must be positive, got {self.per_dim_features}")
        if self.init_mode not in INIT_MODES:
            raise ValueError(f"init_mode must be one of {', '.join(INIT_MODES)}, got {self.init_mode}")

    @property
    def total_features(self) -> int:
        return prod(self.per_dim_features)
