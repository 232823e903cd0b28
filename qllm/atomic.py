"""Files written whole or not at all: a kill mid-write leaves the old file (or none), never half of one."""

from __future__ import annotations

import os
from pathlib import Path


def write_whole(path: Path, data: bytes | str) -> None:
    """Write beside ``path``, then rename over it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(partial, path)
