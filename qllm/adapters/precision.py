"""Full precision inside the adapters, whatever the base model's dtype and the autocast state.

The seed's table: fp16 means "fp16 mixed precision, or float32 in the vqc module".  Under
`torch.autocast` (fp16/bf16 on CUDA, bf16 on the CPU) every matmul would otherwise run in
half precision: a circuit's <Z> drifts by ~1e-2 and complex states cannot be built from
half tensors.  `full_precision` turns autocast off for the call and upcasts half-precision
tensor arguments; callers cast the result back to the base's dtype.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch

HALF_DTYPES = (torch.float16, torch.bfloat16)
Function = TypeVar("Function", bound=Callable[..., Any])


def autocast_off() -> contextlib.ExitStack:
    """A context with autocast disabled on the CPU and, where there is one, on CUDA."""
    stack = contextlib.ExitStack()
    stack.enter_context(torch.autocast("cpu", enabled=False))
    if torch.cuda.is_available():
        stack.enter_context(torch.autocast("cuda", enabled=False))
    return stack


def _upcast(value: Any) -> Any:
    return value.float() if isinstance(value, torch.Tensor) and value.dtype in HALF_DTYPES else value


def full_precision(function: Function) -> Function:
    """Run ``function`` with autocast off and its half-precision tensor arguments in float32."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with autocast_off():
            return function(*map(_upcast, args), **{key: _upcast(value) for key, value in kwargs.items()})

    return wrapper  # type: ignore[return-value]
