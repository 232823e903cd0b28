"""Connecting handlers to events: handlers speak in element names, gradio in components.

A handler (`qllm/webui/handlers/`) takes plain values and returns ``{element name: update}``
for what it changes, leaving every other output as it is — no positional tuples of
`gr.skip()` in the handlers.  `connect` binds one to an event: its inputs and outputs are named,
and the names are turned into the tab's components, as LLaMA-Factory's `Manager` does.
A generator handler streams: each dict it yields is one update.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import gradio as gr

Updates = dict[str, Any]  # element name -> its new value or gr.update(...)
Elements = dict[str, gr.components.Component]  # element name (its elem_id) -> the component


def connect(
    event: Callable[..., Any],
    handler: Callable[..., Any],
    elements: Elements,
    inputs: Iterable[str],
    outputs: Iterable[str],
    **options: Any,
) -> Any:
    """``event(handler)``, with ``inputs`` and ``outputs`` named; returns the event's dependency (for `.then`)."""
    outputs = list(outputs)
    name = getattr(handler, "__name__", None) or handler.func.__name__  # a functools.partial names its function

    def positional(updates: Updates) -> Any:
        """The updates in the order of ``outputs``, every output not named left as it is (gr.skip()).

        Positional, not gradio's {component: value} form: gradio takes an empty dict for one output value.
        """
        unknown = set(updates) - set(outputs)
        if unknown:  # a programming error: the update would be dropped without a word
            raise KeyError(f"{name} updated {sorted(unknown)}, which are not among its outputs")
        values = [updates.get(output, gr.skip()) for output in outputs]
        return values[0] if len(values) == 1 else (tuple(values) or None)

    if inspect.isgeneratorfunction(handler):

        def call(*values: Any):
            for updates in handler(*values):
                yield positional(updates)
    else:

        def call(*values: Any):
            return positional(handler(*values))

    call.__name__, call.__doc__ = name, handler.__doc__
    return event(call, [elements[name] for name in inputs], [elements[name] for name in outputs], **options)
