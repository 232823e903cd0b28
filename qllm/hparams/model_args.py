from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
    infer_dtype: Literal["auto", "float32", "float16", "bfloat16"] = field(
        default="auto",
        metadata={
            "help": "eval / chat / export: the base model's dtype (auto: bf16 or fp16 on a GPU, float32 on a CPU)."
        },
    )

    @property
    def inference_dtype(self) -> str:
        from qllm.hparams.precision import auto_infer_dtype

        return auto_infer_dtype() if self.infer_dtype == "auto" else self.infer_dtype

    @property
    def adapter_paths(self) -> list[str]:
        return split_names(self.adapter_name_or_path)
