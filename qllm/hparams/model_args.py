from __future__ import annotations

from dataclasses import dataclass, field

from qllm.hparams.lists import split_names


@dataclass
class ModelArguments:
    """Which base model and adapter to load."""

    model_name_or_path: str = field(
        metadata={"help": "`qllm-tiny` (bundled), a local model folder, or a Hugging Face hub id."},
    )
    adapter_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Folder(s) of saved adapters to load, comma-separated."},
    )
    cache_dir: str | None = field(
        default=None,
        metadata={"help": "Where hub downloads are cached."},
    )

    @property
    def adapter_paths(self) -> list[str]:
        return split_names(self.adapter_name_or_path)
