"""Compute types: what `--fp16`, `--bf16`, `--pure_bf16` and `--infer_dtype` mean on this machine.

Like LlamaBoard: fp16 / bf16 are mixed precision (autocast) and, on a GPU, a base model
loaded in that dtype; pure_bf16 loads the base in bfloat16 and trains without autocast.
The adapters stay float32 in every case (`qllm.adapters.precision`).  Torch-free at import.
"""

from __future__ import annotations


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def bf16_supported() -> bool:
    """bfloat16 kernels: a CUDA GPU that has them, or a CPU with vector units torch uses for them."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return torch.backends.cpu.get_cpu_capability() != "DEFAULT"


def auto_infer_dtype() -> str:
    """`--infer_dtype auto`: bfloat16 (or float16) on a GPU, float32 on the CPU."""
    if cuda_available():
        return "bfloat16" if bf16_supported() else "float16"
    return "float32"
