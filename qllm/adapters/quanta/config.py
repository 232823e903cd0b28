from __future__ import annotations

from dataclasses import dataclass, field
from math import prod

from peft.utils import PeftType

from qllm.adapters.config import TargetedConfig
from qllm.errors import InvalidField
from qllm.methods import check_config

LAYOUT_VERSION = 2  # 1 (unrecorded): pairs (0,1),(0,2),...; 2: the official order and initialisation


@dataclass
class QuanTAConfig(TargetedConfig):
    """Quantum-informed Tensor Adaptation (arXiv 2406.00132).

    The input is zero-padded to prod(per_dim_features) and viewed as q_d axes; one
    trainable tensor per pair of axes acts in sequence, like two-qubit gates on qudits.
    The network is the official code's (pair order, initialisation, dropout placement);
    `layout_version` records that, and an adapter saved by the project's earlier layout
    (no layout_version: other pair order and start) is refused when loaded.  The update
    starts at exactly zero: by default as in the paper, T(x) - S(x) with S a frozen copy of
    T's starting tensors (every tensor receives gradients from the first step); or
    `zero_last`, this project's own option with the last tensor zero (no S, cheaper).
    """

    q_d: int = field(default=4, metadata={"help": "Number of tensor axes."})
    per_dim_features: list[int] = field(default_factory=lambda: [16, 8, 4, 2], metadata={"help": "Size of each axis."})
    dropout: float = field(default=0.0, metadata={"help": "Dropout on the adapter's input."})
    init_mode: str = field(default="frozen_copy", metadata={"help": "frozen_copy (paper) or zero_last."})
    layout_version: int = field(
        default=LAYOUT_VERSION, metadata={"help": "2: the official network (pair order, start)."}
    )

    @classmethod
    def check_kwargs(cls, **kwargs):
        """peft's hook for a saved config: an adapter of the earlier layout would load as another network."""
        if kwargs.get("layout_version", 1) != LAYOUT_VERSION:
            raise InvalidField(
                "layout_version",
                "this quanTA adapter was saved by an earlier layout of qllm's quanTA (another pair order and start, "
                "so its tensors would build another network); train it again with this version",
            )
        return super().check_kwargs(**kwargs)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = PeftType.QUANTA
        self.per_dim_features = [int(f) for f in self.per_dim_features]
        check_config(self)
        if len(self.per_dim_features) != self.q_d:
            raise InvalidField(
                "per_dim_features",
                f"needs {self.q_d} sizes, one per axis (q_d={self.q_d}); got {self.per_dim_features}",
            )

    @property
    def total_features(self) -> int:
        return prod(self.per_dim_features)
