"""The one error type a user sees: a field, what is wrong with it, and how to fix it.

The CLI prints it as a single line and exits with code 2; the board shows the same line
next to the form.  Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class ArgumentError(ValueError):
    """Bad user input, reported as ``--field: message``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"--{field}: {message}")
        self.field = field
        self.message = message


class InvalidField(ValueError):
    """A value that breaks a peft config's limits, raised by the config itself (`qllm.methods.check_config`).

    It names the config's field; the CLI maps it to the flag that set it and reports an
    `ArgumentError`.  Code that builds configs directly sees a plain ValueError.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
