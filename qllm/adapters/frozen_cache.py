"""Values built from an adapter's parameters, reused while no gradient is recorded.

In evaluation and generation (`torch.no_grad`) the parameters cannot change between two
forward passes, so what depends on them alone — a circuit layer's unitary, quanTA's dense
update — is built once and reused for every token.  The key holds each parameter's
version counter (bumped by every in-place change: an optimizer step, `load_state_dict`),
its storage and its device, so a changed or moved parameter rebuilds.  While gradients are
recorded nothing is cached: training differentiates through the build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch


class FrozenCache:
    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value: Any = None

    def get(self, parameters: Sequence[torch.Tensor], build: Callable[[], Any]) -> Any:
        if torch.is_grad_enabled():
            return build()
        key = tuple((p._version, p.data_ptr(), p.device, p.dtype) for p in parameters)
        if key != self._key:
            self._value, self._key = build(), key
        return self._value
