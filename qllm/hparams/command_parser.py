"""argparse whose complaints are one line naming the flag, for commands and the HfArgumentParser alike."""

from __future__ import annotations

import argparse
import re
from typing import NoReturn

from qllm.errors import ArgumentError


def one_line_error(message: str) -> NoReturn:
    """argparse's complaint as one ArgumentError naming the flag (argparse prints its whole usage and exits)."""
    match = re.search(r"argument (--[\w-]+)[^:]*: (.*)", message)
    if match:
        raise ArgumentError(match.group(1).lstrip("-").replace("-", "_"), match.group(2))
    match = re.search(r"required: (--[\w-]+)", message)
    if match:
        raise ArgumentError(match.group(1).lstrip("-"), "is required")
    match = re.search(r"unrecognized arguments: (\S+)", message)
    if match:
        raise ArgumentError(match.group(1).lstrip("-").split("=")[0], "unknown argument; `--help` lists them all")
    raise ArgumentError("arguments", message)


class CommandParser(argparse.ArgumentParser):
    """argparse for a command with flags of its own (`qllm circuit`): bad input is one line naming the flag."""

    def __init__(self, **options) -> None:
        super().__init__(allow_abbrev=False, **options)

    def error(self, message: str) -> NoReturn:
        one_line_error(message)
