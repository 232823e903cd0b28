"""Full precision inside the adapters, whatever the base model's dtype and the autocast state.

quantum-llm's PEFT table: fp16 means "fp16 mixed precision, or float32 in the vqc module".  Under
`torch.autocast` (fp16/bf16 on CUDA, bf16 on the CPU) every matmul would otherwise run in
half precision: a circuit's <Z> drifts by ~1e-2 and complex states cannot be built from
half tensors.  `full_precision` turns autocast off for the call and upcasts half-precision
tensor arguments; callers cast the result back to the base's dtype.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch

HALF_DTYPES = (torch.float16, torch.bfloat16)
Function = TypeVar("Function", bound=Callable[..., Any])


@functools.cache
def _has_cuda() -> bool:
    return torch.cuda.is_available()  # asked once: it queries the driver, and adapters ask on every token


def autocast_enabled() -> bool:
    return torch.is_autocast_enabled("cpu") or (_has_cuda() and torch.is_autocast_enabled("cuda"))


def _without_autocast(function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``function(*args, **kwargs)`` with autocast off on the CPU and, where there is one, on CUDA.

    Plain `with torch.autocast(...)` blocks, not an ExitStack: torch.compile traces these.
    """
    if _has_cuda():
        with torch.autocast("cpu", enabled=False), torch.autocast("cuda", enabled=False):
            return function(*args, **kwargs)
    with torch.autocast("cpu", enabled=False):
        return function(*args, **kwargs)


def _upcast(value: Any) -> Any:
    return value.float() if isinstance(value, torch.Tensor) and value.dtype in HALF_DTYPES else value


def full_precision(function: Function) -> Function:
    """Run ``function`` with autocast off and its half-precision tensor arguments in float32."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = tuple(map(_upcast, args)), {key: _upcast(value) for key, value in kwargs.items()}
        if not autocast_enabled():  # nested calls and plain float32 runs: entering the contexts costs a token's time
            return function(*args, **kwargs)
        return _without_autocast(function, args, kwargs)

    return wrapper  # type: ignore[return-value]
