from __future__ import annotations

import logging
from dataclasses import dataclass, field

from transformers import IntervalStrategy
from transformers import TrainingArguments as HfTrainingArguments

from qllm.errors import ArgumentError

logger = logging.getLogger(__name__)


@dataclass
class TrainingArguments(HfTrainingArguments):
    """transformers' TrainingArguments plus the seed's spellings.

    transformers 5 renamed `evaluation_strategy` to `eval_strategy` and dropped
    `overwrite_output_dir`; the seed's train.sh uses both, so both are accepted here.
    """

    eval_strategy: IntervalStrategy | str = field(
        default="no",
        metadata={
            "help": "When to evaluate: no, steps, epoch.",
            "aliases": ["--evaluation_strategy", "--evaluation-strategy"],
        },
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "Start afresh in an output_dir that holds an earlier run (else resume from its checkpoint)."},
    )
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Experiment trackers to log to."})

    def __post_init__(self) -> None:
        import torch

        if not self.output_dir:  # transformers would silently write to ./trainer_output
            raise ArgumentError("output_dir", "is required; e.g. --output_dir saves/qllm-tiny/lora/run1")
        if self.fp16 and not torch.cuda.is_available():
            logger.warning("warning: --fp16 needs a CUDA GPU; training in float32 on the CPU instead")
            self.fp16 = False
        super().__post_init__()
