"""The board's imports of the ML stack, one thread at a time.

The board serves at once and imports transformers (the CLI's parser) in a background thread;
a callback that meanwhile imports another part of the stack (the circuit drawing: torch,
qiskit, the adapters that register with peft) from a request thread could take Python's
module locks in the other order, and the import would fail with a deadlock error, leaving
half-imported modules behind.  Every such import goes through `load`, which holds one lock.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

_IMPORTING = threading.Lock()
WARM_UP = ("qllm.hparams.parser",)  # the first Start checks the form with the CLI's parser (seconds to import)
# qiskit's compiled core keeps state of the thread that first imports it: imported by a request thread that
# later ended, the next QuantumCircuit() crashed the board (a segfault, tests/test_board_browser.py found it).
# It is imported on the main thread, which lives as long as the board, before the board serves (half a second).
ON_MAIN_THREAD = ("qiskit", "qiskit.qasm3")


def load(name: str) -> ModuleType:
    """``import name``, never at the same time as another heavy import of the board."""
    with _IMPORTING:
        return importlib.import_module(name)


def import_on_main_thread() -> None:
    """What must be imported by the board's main thread, before any request thread can."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("import_on_main_thread() is for the board's main thread")
    for name in ON_MAIN_THREAD:
        load(name)


def _warm_up() -> None:
    for name in WARM_UP:
        load(name)


def warm_up_in_background() -> None:
    threading.Thread(target=_warm_up, daemon=True, name="qllm-warm-up").start()
