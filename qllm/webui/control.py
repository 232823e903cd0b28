"""Small stateless helpers behind the board's callbacks: folders, runs, datasets, configs.

Everything here reads files; nothing imports torch at module import time.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import yaml

from qllm.constants import (
    ADAPTER_CONFIG,
    CONFIGS_FOLDER,
    EVALUATIONS_FOLDER,
    FINISHED_MARKER,
    RESULTS_FILE,
    TRAINER_LOG,
    checkpoints,
)
from qllm.data.registry import DatasetAttr, load_registry
from qllm.errors import ArgumentError
from qllm.methods import METHODS
from qllm.paths import ADAPTERS_DOC, DATA_DIR, saves_dir
from qllm.train.log_file import read_log
from qllm.webui.locales import text

SAVES = saves_dir()  # the tests point it elsewhere with QLLM_SAVES_DIR
CONFIGS = SAVES / CONFIGS_FOLDER
MODELS = ["qllm-tiny", "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-7B"]
BUNDLED_SAMPLE = "bundled sample"  # how qllm.eval.public_benchmarks.describe_source names the bundled questions
SAFE_NAME = re.compile(r"^[\w.\-]+$")


def plain_name(name: str, field: str) -> str:
    """``name`` when it is a plain file name (no separator, no ..), else an ArgumentError for ``field``."""
    if not name:
        raise ArgumentError(field, "is empty; give it a name of letters, digits, '.', '_', '-'")
    if not SAFE_NAME.match(name) or ".." in name:
        raise ArgumentError(field, f"'{name}' must be a plain name: letters, digits, '.', '_', '-' (no / or ..)")
    return name


def file_mtime(path: Path) -> float | None:
    """When the file last changed (None while it does not exist): how the monitors see that a run moved on."""
    return path.stat().st_mtime if path.is_file() else None


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


def run_summary(label: str, folder: Path) -> list[Any]:
    """One row of the comparison table."""
    records = read_log(folder)
    results = json.loads((folder / FINISHED_MARKER).read_text()) if (folder / FINISHED_MARKER).is_file() else {}
    losses = [r["loss"] for r in records if r.get("loss") is not None]
    evals = [r["eval_loss"] for r in records if r.get("eval_loss") is not None]
    speeds = [r["tokens_per_second"] for r in records if r.get("tokens_per_second")]
    method = label.split("/")[0]
    return [
        label,
        method,
        results.get("trainable_params", ""),
        round(losses[-1], 4) if losses else "",
        round(evals[-1], 4) if evals else "",
        round(speeds[-1], 1) if speeds else "",
        round(results["train_runtime"], 1) if "train_runtime" in results else "",
        "state_finished" if results else "state_unfinished",  # a locale key: the table shows it in the page's language
    ]


def method_notes(method: str) -> str:
    """The section of docs/adapters.md about ``method`` (its "## `method` ..." heading to the next one), or ""."""
    try:
        doc = ADAPTERS_DOC.read_text(encoding="utf-8")
    except OSError:  # an install without the checkout's docs/
        return ""
    sections = re.split(r"(?m)^(?=## )", doc)
    return next(
        (
            section.strip()
            for section in sections
            if section.startswith("## ") and f"`{method}`" in section.split("\n")[0]
        ),
        "",
    )


def dataset_choices(dataset_dir: str = str(DATA_DIR)) -> list[str]:
    try:
        return sorted(load_registry(dataset_dir))
    except ArgumentError:
        return []


def dataset_preview(names: list[str], dataset_dir: str = str(DATA_DIR), rows: int = 3) -> dict[str, Any]:
    """The first rows of each selected dataset, as stored (hub datasets are described, not fetched)."""
    preview: dict[str, Any] = {}
    registry = load_registry(dataset_dir) if names else {}
    for name in names:
        attr = DatasetAttr.from_entry(name, registry[name])
        if attr.load_from == "hf_hub":
            preview[name] = f"Hugging Face Hub dataset {attr.source} (loaded when training starts; needs network)"
            continue
        path = Path(dataset_dir) / attr.source
        file = path / "train.json" if path.is_dir() else path
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            preview[name] = data[:rows] if isinstance(data, list) else data
        except (OSError, json.JSONDecodeError) as err:
            preview[name] = f"cannot preview {file}: {err}"
    return preview


def list_configs() -> list[str]:
    return sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def save_config(name: str, values: dict[str, Any]) -> Path:
    plain_name(name, "config_name")
    CONFIGS.mkdir(parents=True, exist_ok=True)
    path = CONFIGS / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load_config(name: str) -> dict[str, Any]:
    path = CONFIGS / f"{name}.yaml"
    if not path.is_file():
        raise ArgumentError("config_name", f"no saved configuration '{name}'")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def eval_history(model: str, lang: str = "en") -> list[list[Any]]:
    """Every saved evaluation of this model's runs and checkpoints, oldest first: when, adapter (`method/run`,
    `method/run/checkpoint-N`, `base/model`), task, split, n_shot, scores (in ``lang``), data."""
    root = SAVES / model_folder(model)
    found = [
        *root.glob(f"*/*/{EVALUATIONS_FOLDER}/*/{RESULTS_FILE}"),
        *root.glob(f"*/*/checkpoint-*/{EVALUATIONS_FOLDER}/*/{RESULTS_FILE}"),
    ]
    rows = []
    for path in sorted(found, key=lambda p: p.stat().st_mtime):
        result = json.loads(path.read_text(encoding="utf-8"))
        adapter = path.parent.parent.parent.relative_to(root).as_posix()  # .../eval/<evaluation>/results.json
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        if result.get("kind") == "exact_match":
            scores = (
                f"{text('exact_match', lang)} {100 * result['accuracy']:.1f}%, "
                f"{text('eval_loss', lang)} {result['eval_loss']:.3f}"
            )
        else:
            scores = ", ".join(f"{text(k, lang)} {v:.1f}" for k, v in result.get("categories", {}).items())
        data = result.get("data", "")
        if data.startswith(BUNDLED_SAMPLE):  # results.json keeps the CLI's English words; the table shows the page's
            data = text("bundled_sample", lang) + data.removeprefix(BUNDLED_SAMPLE)
        rows.append([when, adapter, result["task"], result["split"], result.get("n_shot", ""), scores, data])
    return rows


def device_info() -> str:
    """The device a run will use (imports torch on first call, not at import time)."""
    import torch

    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        return f"GPU: {torch.cuda.get_device_name()} ({free / 2**30:.1f} of {total / 2**30:.1f} GiB free)"
    return f"CPU ({torch.get_num_threads()} threads)"
