"""Quantized base models (QLoRA-style): 4- or 8-bit linear layers from bitsandbytes, the rest as loaded.

transformers' `BitsAndBytesConfig` does the quantizing while the weights load; every
method trains on top (LoRA through peft's own bnb layers, vqc / tq / quanTA / qpa as
float32 adapters around the quantized `Linear4bit` / `Linear8bitLt`, whose forward they
call unchanged).  bitsandbytes 0.50 runs both on the CPU too.  Torch-free at import.

peft's `prepare_model_for_kbit_training` is not called: it casts every weight that is not
quantized to float32 (Qwen2.5-0.5B's 136M-parameter embedding among them), which undoes much
of the saving; the rest of the model keeps the dtype it was loaded in, as LLaMA-Factory does,
and the adapters compute in float32 (`qllm.adapters.precision`).
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from qllm.errors import ArgumentError

QUANTIZATION_BITS = (4, 8)
QUANTIZATION_TYPES = ("nf4", "fp4")


def check_quantization(bits: int | None, quant_type: str) -> None:
    """The flags name a quantization bitsandbytes can do, and bitsandbytes is installed."""
    if bits is None:
        return
    if bits not in QUANTIZATION_BITS:
        raise ArgumentError("quantization_bit", f"is {bits}; choose 4 or 8 (or leave it out for a float base)")
    if quant_type not in QUANTIZATION_TYPES:
        raise ArgumentError("quantization_type", f"is {quant_type!r}; choose nf4 or fp4")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ArgumentError(
            "quantization_bit", "needs bitsandbytes, which is not installed; pip install bitsandbytes==0.50.2"
        )


def base_in_words(bits: int) -> str:
    """How a score or a loaded model says its base was quantized: "base in 4 bits"."""
    return f"base in {bits} bits"


def check_sharded_quantization(bits: int | None, sharded: bool) -> None:
    """Only 4-bit bases shard (FSDP, ZeRO-3): bitsandbytes' 8-bit weights do not split across processes."""
    if bits == 8 and sharded:
        raise ArgumentError(
            "quantization_bit",
            "an 8-bit base cannot be sharded (bitsandbytes' 8-bit weights do not split across processes); "
            "use --quantization_bit 4 with FSDP or ZeRO-3, or train without sharding",
        )


def bnb_config(bits: int, quant_type: str, double_quantization: bool, compute_dtype: Any, sharded: bool = False):
    """transformers' `BitsAndBytesConfig` for these flags; 4-bit layers compute in ``compute_dtype``.

    ``sharded`` (FSDP, ZeRO-3): the packed 4-bit weights are stored in ``compute_dtype`` elements, as
    the base's other weights are, so that the sharding splits them like any other (FSDP-QLoRA in
    transformers' and peft's docs); only 4-bit bases shard.
    """
    from transformers import BitsAndBytesConfig

    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant_type,
        bnb_4bit_use_double_quant=double_quantization,
        bnb_4bit_compute_dtype=compute_dtype,
        bnb_4bit_quant_storage=compute_dtype if sharded else None,
    )


def load_device() -> Any:
    """Where a quantized model is placed as it loads (it is not moved afterwards): this process's GPU, or the CPU."""
    import os

    import torch

    if torch.cuda.is_available():
        return int(os.environ.get("LOCAL_RANK", "0"))
    return "cpu"


def is_quantized(model) -> bool:
    """True for a model loaded with a bitsandbytes quantization (its linear weights are packed integers)."""
    return getattr(model, "hf_quantizer", None) is not None


def keep_plain_layout(model) -> None:
    """Keep 4-bit weights in the layout they were quantized to, on the CPU, for training and inference alike.

    bitsandbytes 0.50.2 repacks a CPU `Linear4bit`'s weights for fast inference at its first
    eval-mode forward without gradients (on CPUs with AVX512-BF16).  Two things follow: in a
    training process (the in-training evaluation, the circuit probe) its matmul on repacked
    weights adds the bias in place on a view of a leaf that requires grad, so the next training
    step fails; and the repacked kernel's numbers differ from the plain one's (qllm-tiny's
    logits by up to 0.15, measured), so an evaluation would not score the model that trained.
    """
    from bitsandbytes.nn import Linear4bit

    for module in model.modules():
        if isinstance(module, Linear4bit):
            module.support_avx512bf16_for_cpu = False


class _OnceEach(logging.Filter):
    """Lets each distinct message through once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def quiet_repeated_warnings() -> None:
    """bitsandbytes' 8-bit matmul warns on every call that it casts float32 inputs to float16 (84 lines in a
    3-step qllm-tiny run); the console keeps the first."""
    bnb_logger = logging.getLogger("bitsandbytes.autograd._functions")
    if not any(isinstance(existing, _OnceEach) for existing in bnb_logger.filters):
        bnb_logger.addFilter(_OnceEach())
