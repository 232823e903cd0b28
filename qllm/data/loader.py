"""Raw datasets -> one standard layout, whatever their source and formatting.

Standard columns: `_messages` (alternating user/assistant turns, ending with the
assistant), `_system` (str, "" = template default) — or `_text` for plain-text
pre-training.  Converters follow LLaMA-Factory's alpaca / sharegpt conventions.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from qllm.data.registry import DatasetAttr, read_json_file
from qllm.errors import ArgumentError

logger = logging.getLogger(__name__)

FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}


def _load_file(attr: DatasetAttr, dataset_dir: str, split: str):
    from datasets import load_dataset

    path = Path(dataset_dir) / attr.source
    if not path.exists():
        raise ArgumentError("dataset", f"file of dataset '{attr.name}' not found: {path}")
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    builder = next((FILE_BUILDERS[f.suffix] for f in files if f.suffix in FILE_BUILDERS), None)
    if builder is None:
        raise ArgumentError("dataset", f"'{path}' has no .json/.jsonl/.csv/.parquet/.txt file")
    source = {"data_dir": str(path)} if path.is_dir() else {"data_files": str(path)}
    try:
        return load_dataset(builder, split=split, **source)
    except Exception as err:
        if isinstance(err, ValueError) and "split" in str(err).lower():
            raise ArgumentError("dataset", f"dataset '{attr.name}' has no '{split}' split in {path}") from None
        for file in files:  # one clear line for the most common mistake instead of datasets' long trace
            if file.suffix == ".json":
                read_json_file(file, "dataset")
        raise


def _load_hub(attr: DatasetAttr, split: str, dataset_dir: str):
    from datasets import load_dataset

    try:
        return load_dataset(attr.source, name=attr.subset, split=split)
    except Exception as err:  # noqa: BLE001 - offline, missing, or gated: all end the same way for the user
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1"
        why = "this machine is offline" if offline else f"the download failed ({str(err).splitlines()[0][:120]})"
        raise ArgumentError(
            "dataset",
            f"'{attr.name}' is the hub dataset {attr.source} and {why}; download it where you have network, "
            f'save it as JSON under {dataset_dir}/ and register it in dataset_info.json with "file_name"',
        ) from None


def load_raw(attr: DatasetAttr, dataset_dir: str, split: str | None = None):
    split = split or attr.split
    if attr.load_from == "hf_hub":
        return _load_hub(attr, split, dataset_dir)
    return _load_file(attr, dataset_dir, split)


def _fill(text: Any, replacements: dict[str, str]) -> str:
    text = "" if text is None else str(text)
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def _alpaca(example: dict[str, Any], attr: DatasetAttr, fill: dict[str, str]) -> dict[str, Any]:
    columns = attr.columns
    messages = []
    for old_prompt, old_response in example.get(columns["history"]) or []:
        messages += [
            {"role": "user", "content": _fill(old_prompt, fill)},
            {"role": "assistant", "content": _fill(old_response, fill)},
        ]
    prompt = _fill(example.get(columns["prompt"]), fill)
    query = _fill(example.get(columns["query"]), fill)
    messages.append({"role": "user", "content": f"{prompt}\n{query}" if query else prompt})
    messages.append({"role": "assistant", "content": _fill(example.get(columns["response"]), fill)})
    return {"_messages": messages, "_system": _fill(example.get(columns["system"]), fill)}


def _sharegpt(example: dict[str, Any], attr: DatasetAttr, fill: dict[str, str]) -> dict[str, Any]:
    tags = attr.tags
    roles = {tags["user_tag"]: "user", tags["assistant_tag"]: "assistant", tags["system_tag"]: "system"}
    turns = [
        {"role": roles.get(turn[tags["role_tag"]], "?"), "content": _fill(turn[tags["content_tag"]], fill)}
        for turn in example[attr.columns["messages"]]
    ]
    system = _fill(example.get(attr.columns["system"]), fill)
    if turns and turns[0]["role"] == "system":
        system = turns.pop(0)["content"]
    valid = len(turns) >= 2 and len(turns) % 2 == 0
    valid = valid and all(turn["role"] == ("user", "assistant")[i % 2] for i, turn in enumerate(turns))
    return {"_messages": turns if valid else [], "_system": system}


def to_standard(dataset, attr: DatasetAttr, fill: dict[str, str], stage: str):
    """Convert to the standard columns; invalid conversations are dropped with a warning."""
    if stage == "pt":
        column = attr.columns["prompt"] if attr.formatting == "alpaca" else "text"
        if column not in dataset.column_names:
            raise ArgumentError("dataset", f"stage pt reads plain text; dataset '{attr.name}' has no '{column}' column")
        return dataset.map(lambda ex: {"_text": _fill(ex[column], fill)}, remove_columns=dataset.column_names)
    convert = _alpaca if attr.formatting == "alpaca" else _sharegpt
    needed = attr.columns["prompt"] if attr.formatting == "alpaca" else attr.columns["messages"]
    if needed not in dataset.column_names:
        raise ArgumentError(
            "dataset",
            f"dataset '{attr.name}' has no '{needed}' column (it has {', '.join(dataset.column_names)}); "
            'fix "columns" in dataset_info.json',
        )
    converted = dataset.map(lambda ex: convert(ex, attr, fill), remove_columns=dataset.column_names)
    kept = converted.filter(lambda ex: len(ex["_messages"]) > 0)
    if len(kept) < len(converted):
        logger.warning("dataset %s: dropped %d malformed conversations", attr.name, len(converted) - len(kept))
    return kept
