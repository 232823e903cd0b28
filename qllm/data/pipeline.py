"""Registry lookup -> convert -> tokenize -> split, with the result cached at `tokenized_path`."""

from __future__ import annotations

import json
import logging
import math
import os
from functools import partial
from pathlib import Path
from typing import Any

from qllm.data.loader import load_raw, to_standard
from qllm.data.preprocess import pretraining_batch, supervised_batch
from qllm.data.registry import get_dataset_attrs
from qllm.data.template import ChatTemplate
from qllm.errors import ArgumentError
from qllm.hparams.data_args import DataArguments

logger = logging.getLogger(__name__)

CACHE_META = "qllm_cache.json"
# Rows below this are tokenized in-process: starting workers costs more than it saves.
MIN_ROWS_PER_WORKER = 1000


def _cache_key(data_args: DataArguments, stage: str, tokenizer, template: ChatTemplate, seed: int) -> dict:
    return {
        "dataset": data_args.dataset_names,
        "dataset_dir": str(Path(data_args.dataset_dir).resolve()),
        "template": template.name,
        "stage": stage,
        "cutoff_len": data_args.cutoff_len,
        "max_samples": data_args.max_samples,
        "skip_bad_records": data_args.skip_bad_records,
        "val_size": data_args.val_size,
        "tokenizer": tokenizer.name_or_path,
        "vocab_size": len(tokenizer),
        "identity": [data_args.identity_name, data_args.identity_author],
        "seed": seed,
    }


def _load_cache(path: Path, key: dict):
    from datasets import load_from_disk

    meta = path / CACHE_META
    if not meta.is_file():
        return None
    if json.loads(meta.read_text()) != key:
        logger.info("tokenized cache at %s was built from other arguments; tokenizing again", path)
        return None
    logger.info("reusing the tokenized dataset cached at %s", path)
    return load_from_disk(str(path))


def _num_proc(requested: int | None, rows: int) -> int | None:
    if not requested or rows < MIN_ROWS_PER_WORKER * 2:
        return None
    return max(1, min(requested, os.cpu_count() or 1, rows // MIN_ROWS_PER_WORKER))


def first_records(parts: list[tuple[str, Any]], count: int) -> list[tuple[str, Any]]:
    """The first ``count`` records over the files in order (lists and `Dataset`s alike)."""
    kept = []
    for origin, rows in parts:
        if count <= 0:
            break
        take = min(count, len(rows))
        kept.append((origin, rows[:take] if isinstance(rows, list) else rows.select(range(take))))
        count -= take
    return kept


def load_standard(data_args: DataArguments, stage: str, split: str | None = None):
    """The registered datasets as one `Dataset` of standard rows, `max_samples` of each, placeholders filled."""
    from datasets import concatenate_datasets

    fill = {"{{name}}": data_args.identity_name, "{{author}}": data_args.identity_author}
    parts, fewer = [], []
    for attr in get_dataset_attrs(data_args.dataset_names, data_args.dataset_dir):
        raw = load_raw(attr, data_args.dataset_dir, split)
        if data_args.max_samples:
            raw = first_records(raw, data_args.max_samples)
            held = sum(len(rows) for _, rows in raw)
            if held < data_args.max_samples:
                fewer.append(f"'{attr.name}' has {held}")
        parts.append(to_standard(raw, attr, fill, stage, data_args.skip_bad_records))
    if fewer:  # said once per run: the schedule and the scores are of fewer examples than asked for
        logger.warning(
            "--max_samples %d: %s%s; all of them are used",
            data_args.max_samples,
            ", ".join(fewer),
            f" ({split} split)" if split else "",
        )
    return concatenate_datasets(parts) if len(parts) > 1 else parts[0]


def load_tokenized(
    data_args: DataArguments, stage: str, tokenizer, template: ChatTemplate, seed: int, split: str | None = None
):
    """A `DatasetDict` with `train` (and `validation` when `val_size` > 0) of ids and labels.

    ``split`` reads another split of the registered files (the evaluator's `test`); then no
    validation split is cut and nothing is cached.
    """
    from datasets import DatasetDict

    key = _cache_key(data_args, stage, tokenizer, template, seed)
    cache = Path(data_args.tokenized_path) if data_args.tokenized_path and split is None else None
    if cache and not data_args.overwrite_cache:
        cached = _load_cache(cache, key)
        if cached is not None:
            return cached

    standard = load_standard(data_args, stage, split)
    if stage == "pt":
        encode = partial(pretraining_batch, tokenizer=tokenizer, cutoff_len=data_args.cutoff_len)
    else:
        encode = partial(supervised_batch, tokenizer=tokenizer, template=template, cutoff_len=data_args.cutoff_len)
    tokenized = standard.map(
        encode,
        batched=True,
        remove_columns=standard.column_names,
        num_proc=_num_proc(data_args.preprocessing_num_workers, len(standard)),
        desc="Tokenizing",
    )
    if len(tokenized) < len(standard) and stage == "sft":
        logger.warning("%d examples dropped: their response starts beyond cutoff_len", len(standard) - len(tokenized))
    if len(tokenized) == 0:
        raise ArgumentError("cutoff_len", f"no example keeps a response within {data_args.cutoff_len} tokens; raise it")

    splits = DatasetDict({"train": tokenized})
    if data_args.val_size and split is None:
        n_val = int(data_args.val_size) if data_args.val_size >= 1 else math.ceil(data_args.val_size * len(tokenized))
        if not 1 <= n_val < len(tokenized):
            raise ArgumentError(
                "val_size", f"{data_args.val_size} leaves no train or no validation example of {len(tokenized)}"
            )
        parted = tokenized.train_test_split(test_size=n_val, seed=seed)
        splits = DatasetDict({"train": parted["train"], "validation": parted["test"]})
    if cache:
        splits.save_to_disk(str(cache))
        (cache / CACHE_META).write_text(json.dumps(key, indent=1))
        logger.info("tokenized dataset cached at %s", cache)
    return splits
