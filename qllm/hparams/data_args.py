from __future__ import annotations

from dataclasses import dataclass, field

from qllm.hparams.lists import split_names
from qllm.paths import DATA_DIR


@dataclass
class DataArguments:
    """Which data, rendered with which template, cut how."""

    template: str = field(
        default="auto",
        metadata={
            "help": "Chat template: auto (the tokenizer's own) or a family: qwen, chatml, llama3, llama2, mistral, "
            "gemma, phi3, glm4, default."
        },
    )
    dataset: str | None = field(
        default=None,
        metadata={"help": "Dataset names from dataset_info.json, comma-separated."},
    )
    dataset_dir: str = field(
        default=str(DATA_DIR),
        metadata={"help": "Folder holding dataset_info.json and the dataset files (default: the bundled data/)."},
    )
    cutoff_len: int = field(
        default=1024,
        metadata={"help": "Maximum tokens per example after tokenization."},
    )
    max_samples: int | None = field(
        default=None,
        metadata={"help": "Keep at most this many examples of each dataset."},
    )
    val_size: float = field(
        default=0.0,
        metadata={"help": "Validation split: a fraction in [0, 1) or a whole number of examples."},
    )
    skip_bad_records: bool = field(
        default=False,
        metadata={"help": "Leave out records that cannot be read (counted in one warning) instead of stopping."},
    )
    tokenized_path: str | None = field(
        default=None,
        metadata={"help": "Cache the tokenized dataset here and reuse it on the next run."},
    )
    overwrite_cache: bool = field(
        default=False,
        metadata={"help": "Tokenize again even if tokenized_path holds a cache."},
    )
    preprocessing_num_workers: int | None = field(
        default=None,
        metadata={"help": "Processes for tokenization (capped at the CPU count)."},
    )
    identity_name: str = field(
        default="QLLM Assistant",
        metadata={"help": "Fills {{name}} in the identity dataset."},
    )
    identity_author: str = field(
        default="QLLM Board",
        metadata={"help": "Fills {{author}} in the identity dataset."},
    )

    @property
    def dataset_names(self) -> list[str]:
        return split_names(self.dataset)
