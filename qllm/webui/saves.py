"""Where the board keeps its runs, and which runs are there: the saves folder's path rules and listings.

Every name a person types or picks on the board becomes a path here, checked to stay inside
the saves folder.  Everything here reads files; nothing imports torch.
"""

from __future__ import annotations

import re
from pathlib import Path

from qllm.constants import ADAPTER_CONFIG, FINISHED_MARKER, TRAINER_LOG, checkpoints
from qllm.errors import ArgumentError
from qllm.methods import METHODS
from qllm.paths import saves_dir

SAVES = saves_dir()  # the tests point it elsewhere with QLLM_SAVES_DIR
SAFE_NAME = re.compile(r"^[\w.\-]+$")


def plain_name(name: str, field: str) -> str:
    """``name`` when it is a plain file name (no separator, no ..), else an ArgumentError for ``field``."""
    if not name:
        raise ArgumentError(field, "is empty; give it a name of letters, digits, '.', '_', '-'")
    if not SAFE_NAME.match(name) or ".." in name:
        raise ArgumentError(field, f"'{name}' must be a plain name: letters, digits, '.', '_', '-' (no / or ..)")
    return name


def model_folder(model: str) -> str:
    """The name runs of a model are filed under: `Qwen/Qwen2.5-0.5B` -> `Qwen2.5-0.5B`."""
    return Path(model.rstrip("/")).name or "model"


def runs_root(model: str, method: str) -> Path:
    return SAVES / model_folder(model) / method


def inside_saves(path: str | Path, field: str) -> Path:
    """``path`` resolved (links and .. followed); refused unless it lies inside the saves folder.

    The board reads and writes only there: a name typed into a picker or a path in a form
    field cannot reach the rest of the disk.
    """
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_relative_to(SAVES.resolve()):
        raise ArgumentError(field, f"'{path}' is outside the board's saves folder {SAVES}; choose a place inside it")
    return resolved


def run_folder(model: str, method: str, name: str, field: str = "adapter") -> Path:
    """The folder of a run (or run/checkpoint-N) picked by name, checked to stay inside the saves folder."""
    return inside_saves(runs_root(model, method) / name, field)


def list_runs(model: str, method: str) -> list[str]:
    """Runs (and their intermediate checkpoints) that hold a saved adapter, newest first."""
    root = runs_root(model, method)
    if not root.is_dir():
        return []
    names = []
    for run in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        if (run / ADAPTER_CONFIG).is_file():
            names.append(run.name)
        names += [f"{run.name}/{c.name}" for c in reversed(checkpoints(run)) if (c / ADAPTER_CONFIG).is_file()]
    return names


def list_adapters(model: str) -> list[str]:
    """`method/run` (and `method/run/checkpoint-N`) of every method's saved adapters: what Evaluate scores together."""
    return [f"{method}/{name}" for method in METHODS for name in list_runs(model, method)]


def adapter_folder(model: str, label: str, field: str) -> tuple[str, Path]:
    """(method, folder) of a `method/run` label from list_adapters, checked to stay inside the saves folder."""
    method, _, name = label.partition("/")
    if method not in METHODS or not name:
        raise ArgumentError(field, f"'{label}' is not a saved adapter (method/run); pick one from the list")
    return method, run_folder(model, method, name, field)


def default_adapter(model: str, method: str, runs: list[str]) -> str | None:
    """The pick a person means by default: the most recently finished run, else the newest entry."""
    root = runs_root(model, method)
    finished = [name for name in runs if (root / name / FINISHED_MARKER).is_file()]
    if finished:
        return max(finished, key=lambda name: (root / name / FINISHED_MARKER).stat().st_mtime)
    return runs[0] if runs else None


def list_all_runs(model: str) -> dict[str, Path]:
    """`method/run` -> folder, for every run of any method that logged progress."""
    root = SAVES / model_folder(model)
    found = {}
    for log in sorted(root.glob(f"*/*/{TRAINER_LOG}")):
        found[f"{log.parent.parent.name}/{log.parent.name}"] = log.parent
    return found
