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

from qllm.data.records import JSON_SUFFIXES, read_records, split_files
from qllm.data.registry import DatasetAttr
from qllm.errors import ArgumentError

logger = logging.getLogger(__name__)

FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text"}


def _load_file(attr: DatasetAttr, dataset_dir: str, split: str) -> list[tuple[str, Any]]:
    path = Path(dataset_dir) / attr.source
    if not path.exists():
        raise ArgumentError("dataset", f"file of dataset '{attr.name}' not found: {path}")
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    if not any(f.suffix in FILE_BUILDERS for f in files):
        raise ArgumentError("dataset", f"'{path}' has no .json/.jsonl/.csv/.parquet/.txt file")
    if all(f.suffix in JSON_SUFFIXES for f in files if f.suffix in FILE_BUILDERS):
        chosen = [f for f in split_files(path, split) if f.suffix in JSON_SUFFIXES]
        if not chosen:
            raise ArgumentError("dataset", f"dataset '{attr.name}' has no '{split}' split in {path}")
        return [(str(file), read_records(file)) for file in chosen]
    from datasets import load_dataset

    builder = next(FILE_BUILDERS[f.suffix] for f in files if f.suffix in FILE_BUILDERS)
    source = {"data_dir": str(path)} if path.is_dir() else {"data_files": str(path)}
    try:
        return [(str(path), load_dataset(builder, split=split, **source))]
    except Exception as err:  # noqa: BLE001 - datasets' readers fail in many ways; each is the file's fault
        if isinstance(err, ValueError) and "split" in str(err).lower():
            raise ArgumentError("dataset", f"dataset '{attr.name}' has no '{split}' split in {path}") from None
        first_line = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ArgumentError("dataset", f"{path}: cannot be read as {builder} ({first_line})") from None


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


def load_raw(attr: DatasetAttr, dataset_dir: str, split: str | None = None) -> list[tuple[str, Any]]:
    """(origin, rows) pairs: each file (or the hub dataset) with its records, in order."""
    split = split or attr.split
    if attr.load_from == "hf_hub":
        return [(f"hub dataset {attr.source}", _load_hub(attr, split, dataset_dir))]
    return _load_file(attr, dataset_dir, split)


class BadRecord(ValueError):
    """What is wrong with one record, in words the person who wrote the file recognises."""


def _text(record: dict[str, Any], column: str, required: bool) -> str:
    value = record.get(column)
    if value is None:
        if required:
            raise BadRecord(f"has no '{column}'" if column not in record else f"'{column}' is null")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadRecord(f"'{column}' is a JSON {_json_type(value)}, expected text")
    return str(value)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", bool: "boolean", str: "string"}.get(type(value), type(value).__name__)


def _fill(text: str, replacements: dict[str, str]) -> str:
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def _alpaca(example: dict[str, Any], attr: DatasetAttr, fill: dict[str, str]) -> dict[str, Any]:
    columns = attr.columns
    history = example.get(columns["history"]) or []
    if not isinstance(history, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(text, str) for text in pair) for pair in history
    ):
        raise BadRecord(f"'{columns['history']}' must be a list of [prompt, response] pairs of text")
    messages = []
    for old_prompt, old_response in history:
        messages += [
            {"role": "user", "content": _fill(old_prompt, fill)},
            {"role": "assistant", "content": _fill(old_response, fill)},
        ]
    prompt = _fill(_text(example, columns["prompt"], required=True), fill)
    query = _fill(_text(example, columns["query"], required=False), fill)
    response = _fill(_text(example, columns["response"], required=True), fill)
    if not response.strip():
        raise BadRecord(f"'{columns['response']}' is empty: there is nothing to learn from")
    messages.append({"role": "user", "content": f"{prompt}\n{query}" if query else prompt})
    messages.append({"role": "assistant", "content": response})
    return {"_messages": messages, "_system": _fill(_text(example, columns["system"], required=False), fill)}


def _sharegpt(example: dict[str, Any], attr: DatasetAttr, fill: dict[str, str]) -> dict[str, Any]:
    tags, column = attr.tags, attr.columns["messages"]
    roles = {tags["user_tag"]: "user", tags["assistant_tag"]: "assistant", tags["system_tag"]: "system"}
    conversation = example.get(column)
    if not isinstance(conversation, list):
        found = "missing" if conversation is None else f"a JSON {_json_type(conversation)}"
        raise BadRecord(f"'{column}' is {found}, expected a list of turns")
    turns = []
    for number, turn in enumerate(conversation, 1):
        if not isinstance(turn, dict) or tags["role_tag"] not in turn:
            raise BadRecord(f"turn {number} is not an object with '{tags['role_tag']}' and '{tags['content_tag']}'")
        if turn[tags["role_tag"]] not in roles:
            raise BadRecord(
                f"turn {number} has the role '{turn[tags['role_tag']]}', not one of {', '.join(roles)} "
                '(set "tags" in dataset_info.json for other names)'
            )
        content = _fill(_text(turn, tags["content_tag"], required=True), fill)
        turns.append({"role": roles[turn[tags["role_tag"]]], "content": content})
    system = _fill(_text(example, attr.columns["system"], required=False), fill)
    if turns and turns[0]["role"] == "system":
        system = turns.pop(0)["content"]
    expected = [("user", "assistant")[i % 2] for i in range(len(turns))]
    if len(turns) < 2 or len(turns) % 2 or [turn["role"] for turn in turns] != expected:
        order = ", ".join(turn["role"] for turn in turns) or "no turns"
        raise BadRecord(f"turns must alternate user, assistant and end with the assistant; got {order}")
    return {"_messages": turns, "_system": system}


def _plain_text(example: dict[str, Any], column: str, fill: dict[str, str]) -> dict[str, Any]:
    return {"_text": _fill(_text(example, column, required=True), fill)}


def to_standard(parts: list[tuple[str, Any]], attr: DatasetAttr, fill: dict[str, str], stage: str, skip_bad: bool):
    """Convert every record to the standard columns (a `Dataset`); a bad record stops with its file and number.

    With ``skip_bad`` bad records are left out and counted instead.
    """
    from datasets import Dataset

    if stage == "pt":
        column = attr.columns["prompt"] if attr.formatting == "alpaca" else "text"

        def convert(example):
            return _plain_text(example, column, fill)
    elif attr.formatting == "alpaca":

        def convert(example):
            return _alpaca(example, attr, fill)
    else:

        def convert(example):
            return _sharegpt(example, attr, fill)

    converted: list[dict[str, Any]] = []
    for origin, rows in parts:
        skipped: list[tuple[int, str]] = []
        for number, row in enumerate(rows, 1):
            try:
                converted.append(convert(row))
            except BadRecord as err:
                if not skip_bad:
                    raise ArgumentError(
                        "dataset",
                        f"{origin}: record {number} {err}; fix it, or pass --skip_bad_records to leave it out",
                    ) from None
                skipped.append((number, str(err)))
        if skipped:
            number, reason = skipped[0]
            logger.warning("%s: skipped %d bad records (the first: record %d %s)", origin, len(skipped), number, reason)
    if not converted:
        raise ArgumentError("dataset", f"dataset '{attr.name}' has no usable record")
    return Dataset.from_list(converted)
