from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qllm.errors import ArgumentError
from qllm.hparams.lists import parse_int_list, split_names

FINETUNING_TYPES = ("lora", "vqc", "tq", "quanTA")
MAX_QUBITS = 16  # statevectors hold 2^n amplitudes


@dataclass
class FinetuningArguments:
    """How the model is adapted: stage, method, and each method's hyperparameters."""

    stage: Literal["sft", "pt"] = field(
        default="sft",
        metadata={"help": "sft: instruction tuning with the prompt masked; pt: plain-text language modelling."},
    )
    finetuning_type: str = field(
        default="lora",
        metadata={"help": f"Adapter method: {', '.join(FINETUNING_TYPES)}."},
    )
    lora_target: str = field(
        default="q_proj,v_proj",
        metadata={"help": "Linear layers to adapt, comma-separated, or `all` (every linear but the output head)."},
    )
    lora_rank: int = field(default=8, metadata={"help": "LoRA rank r."})
    lora_alpha: float | None = field(
        default=None,
        metadata={"help": "Update scale numerator (LoRA: alpha/r, vqc/tq: alpha/n_qubits); default 2*r or 2*n."},
    )
    lora_dropout: float = field(default=0.0, metadata={"help": "Dropout on the adapter's input."})
    n_qubits: int = field(default=8, metadata={"help": "vqc/tq: qubits of the circuit (1-16)."})
    q_depth: int = field(default=1, metadata={"help": "vqc/tq: circuit layers (data re-uploading)."})
    q_d: int = field(default=4, metadata={"help": "quanTA: number of tensor axes."})
    per_dim_features: str = field(
        default="16,8,4,2",
        metadata={"help": "quanTA: size of each axis, comma-separated; their product must cover the layer width."},
    )
    quanta_init: Literal["frozen_copy", "zero_last"] = field(
        default="frozen_copy",
        metadata={"help": "quanTA: exact-zero start as in the paper (T - frozen copy) or with the last tensor zero (faster)."},
    )
    plot_loss: bool = field(default=False, metadata={"help": "Save training_loss.png at the end."})

    def __post_init__(self) -> None:
        by_lower = {name.lower(): name for name in FINETUNING_TYPES}
        if self.finetuning_type.lower() not in by_lower:
            raise ArgumentError(
                "finetuning_type", f"unknown method '{self.finetuning_type}'; choose one of {', '.join(FINETUNING_TYPES)}"
            )
        self.finetuning_type = by_lower[self.finetuning_type.lower()]
        try:
            parse_int_list(self.per_dim_features)
        except ValueError:
            raise ArgumentError(
                "per_dim_features", f"'{self.per_dim_features}' is not a comma-separated list of integers, e.g. 16,8,4,2"
            ) from None
        if not 1 <= self.n_qubits <= MAX_QUBITS:
            raise ArgumentError("n_qubits", f"must be between 1 and {MAX_QUBITS} (statevectors hold 2^n amplitudes); got {self.n_qubits}")
        if self.q_depth < 1:
            raise ArgumentError("q_depth", f"must be at least 1 (got {self.q_depth})")
        if self.q_d < 2:
            raise ArgumentError("q_d", f"must be at least 2, a tensor acts on a pair of axes (got {self.q_d})")
        if len(self.per_dim_features_list) != self.q_d or min(self.per_dim_features_list, default=0) < 1:
            raise ArgumentError(
                "per_dim_features", f"needs {self.q_d} positive sizes, one per axis (q_d={self.q_d}); got {self.per_dim_features}"
            )
        if self.lora_rank < 1:
            raise ArgumentError("lora_rank", f"must be at least 1 (got {self.lora_rank})")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ArgumentError("lora_dropout", f"must be in [0, 1) (got {self.lora_dropout})")

    @property
    def per_dim_features_list(self) -> list[int]:
        return parse_int_list(self.per_dim_features)

    @property
    def target_modules(self) -> list[str] | str:
        names = split_names(self.lora_target)
        return "all-linear" if names == ["all"] else names
