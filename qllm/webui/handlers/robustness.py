"""What the Evaluate tab's Robustness section does: launch `qllm robustness` on one vqc / tq adapter, stop it,
and draw its points as they are scored.

The sweep's folder is ``<run>/eval/robustness-<task>-<split>``, so Start with the same settings
resumes a stopped sweep (the command keeps each finished point); settings that differ go to a
new folder of their own.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from qllm.circuit import CIRCUIT_METHODS
from qllm.constants import EVALUATIONS_FOLDER
from qllm.errors import ArgumentError
from qllm.eval.registry import find_task
from qllm.paths import DATA_DIR
from qllm.robustness.report import figure, summarize, table
from qllm.robustness.workflow import STATE_FILE, ablations, eval_flags, noise_specs, read_state, shot_counts
from qllm.webui.locales import LANGUAGES, text
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Job, Runner, write_args
from qllm.webui.saves import adapter_folder
from qllm.webui.wiring import Updates

SWEEP_ARGS = "robustness_args.yaml"
MONITOR_OUTPUTS = ("sweep_status", "sweep_log", "sweep_plot", "sweep_table", "sweep_seen")
START_INPUTS = (
    "lang",
    "model_name_or_path",
    "template",
    "task",
    "task_dir",
    "n_shot",
    "eval_lang",
    "split",
    "batch_size",
    "eval_adapters",
    "sweep_shots",
    "sweep_noise",
    "sweep_ablation",
    "sweep_repeats",
)


def sweep_folder(run: Path, task: str, split: str, values: dict[str, Any]) -> Path:
    """The folder of this sweep: an earlier sweep's with the same eval flags (it goes on from its points, whatever
    grid it had), else ``robustness-<task>-<split>`` when free, else that name with the time."""
    folder = run / EVALUATIONS_FOLDER / f"robustness-{task}-{split}"
    wanted = eval_flags(values)
    for earlier in sorted(folder.parent.glob(f"{folder.name}*")):
        try:
            state = read_state(earlier)
        except ArgumentError:  # a file of that name that is not a sweep's: never touched
            continue
        if state is not None and state.get("eval_flags") == wanted:
            return earlier
    if not folder.exists():
        return folder
    return folder.with_name(f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}")


def start(
    runner: Runner,
    lang_name: str,
    model: str,
    template: str,
    task_name: str,
    task_dir: str,
    n_shot: float,
    language: str,
    split: str,
    batch: float,
    chosen: list[str] | None,
    shots: str,
    noise: str,
    ablation: list[str] | None,
    repeats: float,
) -> Updates:
    """One `qllm robustness` of the adapter chosen under Adapters to score, with the task settings above."""
    code = LANGUAGES[lang_name]
    if runner.busy():
        return {"sweep_message": f"⚠ {text('busy', code)}"}
    try:
        if len(chosen or []) != 1:
            raise ArgumentError("eval_adapters", text("sweep_one_adapter", code))
        method = chosen[0].partition("/")[0]
        if method not in CIRCUIT_METHODS:
            raise ArgumentError("eval_adapters", text("sweep_no_circuit", code).format(method=method))
        method, run = adapter_folder(model, chosen[0], field="eval_adapters")
        task = find_task(task_name, task_dir, DATA_DIR)
        shot_counts(shots), noise_specs(noise), ablations(",".join(ablation or []))  # each flag checked here too
        if not repeats or repeats < 1:
            raise ArgumentError("repeats", f"at least 1 seed per shot count (got {repeats})")
    except ArgumentError as err:
        return {"sweep_message": f"⚠ {err}"}
    values: dict[str, Any] = {
        "shots": shots,
        "noise": noise,
        "ablation": ",".join(ablation or []),
        "repeats": int(repeats),
        "model_name_or_path": model,
        "adapter_name_or_path": str(run),
        "template": template,
        "finetuning_type": method,
        "task": task.name,
        "task_dir": task_dir,
        "n_shot": int(n_shot),
        "split": split,
        "batch_size": int(batch),
    }
    if language != "auto":
        values["lang"] = language
    folder = sweep_folder(run, task.name, split, values)
    values["save_dir"] = str(folder)
    runner.start([Job("robustness", str(write_args(folder / SWEEP_ARGS, values)), str(folder))])
    return {"sweep_message": ""}


def stop(runner: Runner) -> Updates:
    """Stop the sweep; the points scored so far stay, and Start with the same settings goes on from them."""
    runner.stop_kind("robustness")
    return {}


def monitor(watcher: RunMonitor, lang_name: str, seen: dict | None) -> Updates:
    """(timer, page load) -> the sweep's status with its progress, log, chart and table."""
    view = watcher.look(lang_name, seen)
    if view is None:
        return {}
    code, state = view.lang, view.state
    if state is None:
        return {"sweep_status": "", "sweep_log": "", "sweep_plot": None, "sweep_table": "", "sweep_seen": view.drawn}
    points = re.findall(r"point (\d+)/(\d+)", view.console)
    progress = f" · {text('sweep_points', code).format(done=points[-1][0], total=points[-1][1])}" if points else ""
    head = f"**{text(state.status, code)}**{progress if view.running else ''} · `{state.folder}`"
    if state.status == "failed":
        head += f"\n\n{view.cause()}"
    elif state.status == "stopped":
        head += f"\n\n{text('sweep_resumable', code)}"
    sweep = _read(Path(state.folder))
    return {
        "sweep_status": head,
        "sweep_log": view.log(),
        "sweep_plot": figure(sweep) if sweep and sweep.get("points") else None,
        "sweep_table": table(summarize(sweep)) if sweep and sweep.get("points") else "",
        "sweep_seen": view.drawn,
    }


def _read(folder: Path) -> dict | None:
    """The sweep's robustness.json as far as it got (None before its first point, or when unreadable)."""
    if not (folder / STATE_FILE).is_file():
        return None
    try:
        return read_state(folder)
    except ArgumentError:
        return None


def watcher(runner: Runner) -> RunMonitor:
    """The sweep's job, redrawn when its log or its robustness.json changes."""
    return RunMonitor(runner, "robustness", watched=(STATE_FILE,))
