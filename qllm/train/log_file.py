"""`trainer_log.jsonl`: the one record of a run's progress that every viewer reads.

Torch-free on purpose: the board reads it without loading the ML stack.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from qllm.constants import CIRCUIT_LOG, TRAINER_LOG


def read_log(output_dir: str | Path, name: str = TRAINER_LOG) -> list[dict[str, Any]]:
    """All complete records of the run's ``name`` log; a line being written right now is skipped, not an error."""
    path = Path(output_dir) / name
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def read_circuit_log(output_dir: str | Path) -> list[dict[str, Any]]:
    """The records of `circuit_log.jsonl` (vqc / tq runs; `qllm.train.circuit_log`), [] when there is none."""
    return read_log(output_dir, CIRCUIT_LOG)


def smooth(values: list[float], weight: float | None = None) -> list[float]:
    """Exponential moving average; the weight grows with the number of points, as TensorBoard's does."""
    if not values:
        return []
    if weight is None:
        weight = 1.8 * (1 / (1 + math.exp(-0.05 * len(values))) - 0.5)
    smoothed, last = [], values[0]
    for value in values:
        last = last * weight + (1 - weight) * value
        smoothed.append(last)
    return smoothed


def loss_series(records: list[dict[str, Any]], key: str = "loss") -> tuple[list[int], list[float]]:
    """(steps, values) of one loss; zero losses are kept (a loss of 0 is a value, not a gap)."""
    points = [(r["current_steps"], r[key]) for r in records if r.get(key) is not None]
    return [p[0] for p in points], [float(p[1]) for p in points]
