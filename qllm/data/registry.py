"""`dataset_info.json`: the registry of named datasets, in LLaMA-Factory's format.

An entry names its source (`file_name` relative to the dataset folder — a file, or a
folder whose `train.*` / `test.*` files are its splits — or `hf_hub_url`), its
`formatting` (alpaca | sharegpt) and optionally `columns` and `tags` that map the file's
keys onto the standard ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qllm.errors import ArgumentError

REGISTRY_FILE = "dataset_info.json"

ALPACA_COLUMNS = {
    "prompt": "instruction",
    "query": "input",
    "response": "output",
    "system": "system",
    "history": "history",
}
SHAREGPT_COLUMNS = {"messages": "conversations", "system": "system"}
SHAREGPT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "system_tag": "system",
}


@dataclass
class DatasetAttr:
    name: str
    load_from: Literal["file", "hf_hub"]
    source: str  # a path under the dataset folder, or a hub id
    formatting: Literal["alpaca", "sharegpt"] = "alpaca"
    split: str = "train"
    subset: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_entry(cls, name: str, entry: dict[str, Any]) -> DatasetAttr:
        if "hf_hub_url" in entry:
            load_from, source = "hf_hub", entry["hf_hub_url"]
        elif "file_name" in entry:
            load_from, source = "file", entry["file_name"]
        else:
            raise ArgumentError("dataset", f"entry '{name}' in {REGISTRY_FILE} needs a 'file_name' or 'hf_hub_url'")
        formatting = entry.get("formatting", "alpaca")
        if formatting not in ("alpaca", "sharegpt"):
            raise ArgumentError("dataset", f"entry '{name}' has formatting '{formatting}'; use alpaca or sharegpt")
        defaults = ALPACA_COLUMNS if formatting == "alpaca" else SHAREGPT_COLUMNS
        return cls(
            name=name,
            load_from=load_from,
            source=source,
            formatting=formatting,
            split=entry.get("split", "train"),
            subset=entry.get("subset"),
            columns={**defaults, **entry.get("columns", {})},
            tags={**SHAREGPT_TAGS, **entry.get("tags", {})},
        )


def read_json_file(path: Path, field_name: str) -> Any:
    """Parsed JSON; a syntax error becomes one line naming the file, line and column."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ArgumentError(
            field_name, f"{path} is not valid JSON: line {err.lineno} column {err.colno}: {err.msg}"
        ) from None


def load_registry(dataset_dir: str | Path) -> dict[str, dict[str, Any]]:
    path = Path(dataset_dir) / REGISTRY_FILE
    if not path.is_file():
        raise ArgumentError(
            "dataset_dir", f"no {REGISTRY_FILE} in '{dataset_dir}'; point --dataset_dir at the data folder"
        )
    registry = read_json_file(path, "dataset_dir")
    if not isinstance(registry, dict):
        raise ArgumentError("dataset_dir", f"{path} must map dataset names to entries")
    return registry


def datasets_with_test_split(dataset_dir: str | Path) -> list[str]:
    """Registered local datasets whose folder has a test file (what exact-match scoring reads); sorted."""
    try:
        registry = load_registry(dataset_dir)
    except ArgumentError:  # no registry there
        return []
    folders = {name: Path(dataset_dir) / entry["file_name"] for name, entry in registry.items() if "file_name" in entry}
    return sorted(name for name, folder in folders.items() if folder.is_dir() and any(folder.glob("test.*")))


def get_dataset_attrs(names: list[str], dataset_dir: str | Path) -> list[DatasetAttr]:
    registry = load_registry(dataset_dir)
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise ArgumentError(
            "dataset",
            f"unknown dataset '{unknown[0]}' in {Path(dataset_dir) / REGISTRY_FILE}; "
            f"available: {', '.join(sorted(registry))}",
        )
    return [DatasetAttr.from_entry(name, registry[name]) for name in names]
