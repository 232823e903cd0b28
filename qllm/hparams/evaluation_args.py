from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qllm.eval.registry import BENCHMARK_TASKS
from qllm.paths import EVALUATION_DIR


@dataclass
class EvaluationArguments:
    """`qllm eval`: a multiple-choice benchmark (mmlu / cmmlu / ceval) or a registered dataset."""

    task: str = field(
        metadata={
            "help": f"One of {', '.join(BENCHMARK_TASKS)}, a folder with mapping.json under task_dir, "
            "or a dataset of dataset_info.json (scored by exact match on its test split)."
        },
    )
    task_dir: str = field(
        default=str(EVALUATION_DIR),
        metadata={"help": "Folder holding the benchmark folders (default: the bundled evaluation/)."},
    )
    n_shot: int = field(default=5, metadata={"help": "Examples from the dev split shown before each question."})
    lang: Literal["en", "zh"] | None = field(
        default=None, metadata={"help": "Prompt language; by default the task's (en for mmlu, zh for cmmlu / ceval)."}
    )
    split: str = field(default="test", metadata={"help": "dev, val or test (mmlu_test style names also work)."})
    batch_size: int = field(default=4, metadata={"help": "Prompts per forward pass."})
    save_dir: str | None = field(default=None, metadata={"help": "Write results.json here."})

    def __post_init__(self) -> None:
        from qllm.errors import ArgumentError

        self.split = self.split.split("_")[-1]  # "mmlu_test" -> "test"
        if self.n_shot < 0:
            raise ArgumentError("n_shot", f"must be 0 or more (got {self.n_shot})")
        if self.batch_size < 1:
            raise ArgumentError("batch_size", f"must be at least 1 (got {self.batch_size})")
