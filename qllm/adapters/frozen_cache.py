"""Values built from a frozen adapter's parameters, built once and reused for every token.

A loaded adapter that is not being trained (chat, evaluation, export: peft loads it with
``is_trainable=False``, so none of its parameters requires a gradient) has parameters that
no optimizer touches.  What depends on them alone — a circuit layer's unitary, quanTA's
dense update, the circuit adapter's folded readout — is then built once and reused.

**Trainable parameters are never cached**, in any grad mode.  An optimizer may change them
without a trace: `torch.optim.AdamW(fused=True)`, the default of transformers 5, writes
them without bumping their version counters, and so may 8-bit or sharded optimizers and
`.data` writes.  A cache keyed on versions served the first evaluation's unitaries to every
later in-training evaluation (frozen eval losses, a wrong "best" checkpoint).  So within a
training process every forward — training or evaluation — builds from the current values.

For frozen parameters the key still holds each one's version counter (bumped by
`load_state_dict`, an in-place write under `torch.no_grad`), storage (`assign=True`, a
moved or replaced tensor) and dtype, so a reload rebuilds.  The one write it cannot see is
an in-place write through `.data`, which by torch's design bypasses the version counter;
call `clear()` after such a write to a frozen adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch


def is_frozen(parameters: Iterable[torch.Tensor]) -> bool:
    """True when no parameter requires a gradient: nothing trains them, so a build of them stays valid."""
    return not any(parameter.requires_grad for parameter in parameters)


class FrozenCache:
    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value: Any = None

    def get(self, parameters: Sequence[torch.Tensor], build: Callable[[], Any]) -> Any:
        """``build()`` for trainable parameters; for frozen ones, the last build while they are unchanged."""
        if not is_frozen(parameters):
            self.clear()
            return build()
        key = tuple((p._version, p.data_ptr(), p.device, p.dtype) for p in parameters)
        if key != self._key:
            self._value, self._key = build(), key
        return self._value

    def clear(self) -> None:
        self._key, self._value = None, None
