"""Local JSON / JSONL dataset files -> records, every problem one line naming the file and the record.

datasets' JSON reader stops a bad file with a long trace from deep inside Arrow (and,
for a record whose column changes type, with a schema error that names neither file nor
record).  These files are read here instead; the records go on to the converters as
plain dicts and reach `datasets` only once they are in the standard layout.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from qllm.errors import ArgumentError

JSON_SUFFIXES = (".json", ".jsonl")


def split_files(path: Path, split: str) -> list[Path]:
    """The files of one split: a single file is its `train` split; in a folder, files named after the split.

    The folder convention is datasets' own (`train.json`, `test.jsonl`, `train-00001.json`).
    """
    if path.is_file():
        return [path] if split == "train" else []
    pattern = re.compile(rf"^{re.escape(split)}([-._ ]|\d)", re.IGNORECASE)
    return sorted(f for f in path.iterdir() if f.is_file() and pattern.match(f.name))


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of one .json (a list of objects) or .jsonl (one object per line) file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ArgumentError("dataset", f"{path}: not UTF-8 text (byte {err.start}); save the file as UTF-8") from None
    if path.suffix == ".jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ArgumentError("dataset", f"{path}: line {number} is not valid JSON ({err.msg})") from None
    else:
        try:
            records = json.loads(text) if text.strip() else []
        except json.JSONDecodeError as err:
            raise ArgumentError(
                "dataset", f"{path}: not valid JSON at line {err.lineno} column {err.colno} ({err.msg})"
            ) from None
        if not isinstance(records, list):
            raise ArgumentError("dataset", f"{path}: holds a JSON {type(records).__name__}, expected a list of records")
    if not records:
        raise ArgumentError("dataset", f"{path}: holds no records")
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise ArgumentError(
                "dataset", f"{path}: record {number} is a JSON {type(record).__name__}, expected an object"
            )
    return records
