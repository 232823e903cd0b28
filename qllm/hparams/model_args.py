from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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

    quantization_bit: int | None = field(
        default=None,
        metadata={
            "help": "Load the base model's linear layers in 4 or 8 bits (bitsandbytes, QLoRA-style); adapters "
            "stay float32. Not for export: merge onto the float base."
        },
    )
    quantization_type: str = field(
        default="nf4",
        metadata={"help": "4-bit data type: nf4 (normal float, QLoRA's) or fp4."},
    )
    double_quantization: bool = field(
        default=True,
        metadata={"help": "4-bit: quantize the quantization constants too (saves ~0.4 bit per weight)."},
    )

    def __post_init__(self) -> None:
        from qllm.model.quantization import check_quantization

        check_quantization(self.quantization_bit, self.quantization_type)

    def quantization_config(self, compute_dtype: str, sharded: bool = False) -> Any:
        """transformers' BitsAndBytesConfig for --quantization_bit (None for a float base); ``sharded``: for FSDP
        or ZeRO-3, which split the quantized weights across processes (`bnb_config`)."""
        import torch

        from qllm.model.quantization import bnb_config

        if self.quantization_bit is None:
            return None
        return bnb_config(
            self.quantization_bit,
            self.quantization_type,
            self.double_quantization,
            getattr(torch, compute_dtype),
            sharded,
        )

    @property
    def inference_dtype(self) -> str:
        from qllm.hparams.precision import auto_infer_dtype

        return auto_infer_dtype() if self.infer_dtype == "auto" else self.infer_dtype

    @property
    def adapter_paths(self) -> list[str]:
        return split_names(self.adapter_name_or_path)
