"""Comma-separated list arguments: one flag value on the CLI, one string in YAML and the board."""

from __future__ import annotations


def split_names(text: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; empty for None or blank."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_int_list(text: str) -> list[int]:
    """``"16,8,4,2"`` (or ``"[16, 8, 4, 2]"``, as YAML lists reach the parser) -> ``[16, 8, 4, 2]``."""
    return [int(part) for part in split_names(text.replace("[", "").replace("]", ""))]
