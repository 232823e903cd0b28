"""What the Train tab's buttons and timer do: check and start a run, stop it, watch it, keep configurations.

Every handler takes the values of its inputs (the top bar, the form's fields in `FIELD_KEYS`
order) and returns ``{element name: update}``; `qllm.webui.components.train` wires them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from qllm.circuit import CIRCUIT_METHODS
from qllm.constants import CIRCUIT_LOG, FINISHED_MARKER, TRAIN_ARGS, TRAIN_RESULTS, TRAINER_LOG
from qllm.errors import ArgumentError
from qllm.methods import MAX_QUBITS
from qllm.train.log_file import read_log
from qllm.train.output_dir import claim_run_folder, last_complete_checkpoint
from qllm.webui.catalog import dataset_preview, method_notes
from qllm.webui.charts import circuit_figure, compare_figure, keep_zoom, loss_figure
from qllm.webui.configs import list_configs, load_config, save_config
from qllm.webui.heavy_imports import load
from qllm.webui.locales import LANGUAGES, LOCALES, headers, text
from qllm.webui.log_view import failure_cause
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Job, Runner, RunState, write_args
from qllm.webui.saves import list_all_runs
from qllm.webui.train_form import (
    FIELD_KEYS,
    FIELDS,
    GROUP_OF,
    SHARDING,
    TOP_KEYS,
    args_file,
    command_line,
    default_run_name,
    form_to_args,
    parse_devices,
    sharding_args,
)
from qllm.webui.wiring import Updates

FULL_LOG_LINES = 400  # of console.log in "Full console.log"; the readable view is made from the same lines
MARKABLE = ("model_name_or_path", *FIELD_KEYS)  # fields an error can point at: the form's and the top bar's model
# what a check of the form updates: the field marked now, the one marked before, the section that opens, the mark
MARK_OUTPUTS = (*MARKABLE, *dict.fromkeys(GROUP_OF.values()), "train_marked")
FORM_INPUTS = ("lang", "train_marked", *TOP_KEYS, *FIELD_KEYS)  # what Preview command and Start read
MONITOR_OUTPUTS = (
    "train_status",
    "train_progress",
    "log",
    "full_log",
    "loss_plot",
    "circuit_plot",
    "train_seen",
    "train_message",
    "loss_zoom",
    "finished_run",
)


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


def form_settings(values: tuple) -> dict[str, Any]:
    """The top bar's choices and the form's values (in `FORM_INPUTS` order) by key: what a saved
    configuration and a run's state keep."""
    return dict(zip((*TOP_KEYS, *FIELD_KEYS), values))


def progress_html(record: dict[str, Any] | None, lang: str) -> str:
    if not record:
        return ""
    percent = record.get("percentage") or 0
    label = (
        f"{text('step', lang)} {record['current_steps']}/{record['total_steps']} · {text('elapsed', lang)} "
        f"{record['elapsed_time']}"
    )
    if record.get("remaining_time"):  # None once the run has ended: no estimate is left standing
        label += f" · {text('remaining', lang)} {record['remaining_time']}"
    return (
        f'<div class="qllm-progress"><div style="background:#e5e7eb;border-radius:6px;height:14px">'
        f'<div style="width:{percent}%;background:#2563eb;height:14px;border-radius:6px"></div></div>'
        f'<div class="qllm-progress-text">{percent:.1f}% · {label}</div></div>'
    )


def mean_train_loss(folder: Path) -> float | None:
    """The run's mean training loss (the Trainer's ``train_loss``), written only by a run that finished."""
    try:
        return float(json.loads((folder / TRAIN_RESULTS).read_text(encoding="utf-8"))["train_loss"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def status_markdown(runner: Runner, lang: str, state: RunState | None = None, console: str | None = None) -> str:
    """The outcome in plain words: progress, losses (each named for what it is) and path, or why it failed.

    A failed or stopped run that kept a complete checkpoint says so: Start with the same run
    name resumes from it.  ``console``: the run's console already read by the monitor.
    """
    state = state or runner.train_state()
    if state is None:
        return text("idle", lang)
    folder = Path(state.folder)
    records = read_log(folder)
    losses = [r["loss"] for r in records if r.get("loss") is not None]
    evals = [r["eval_loss"] for r in records if r.get("eval_loss") is not None]
    head = f"**{text(state.status, lang)}** · {text('output_dir', lang)} `{state.folder}`"
    if state.status == "running":
        return head
    ended_early = state.status in ("failed", "stopped")
    resumable = last_complete_checkpoint(folder) if ended_early else None
    resume = f"{text('resumable', lang)} `{resumable.name}`" if resumable else None
    if ended_early and resumable is None:  # the steps it trained are not kept anywhere: say so
        resume = text("nothing_saved", lang)
    if state.status == "failed":
        cause = failure_cause(console if console is not None else runner.log_tail(12, state), lang)
        return f"{head}\n\n{cause}" + (f"\n\n{resume}" if resume else "")
    details = []
    if losses:
        details.append(f"{text('last_step_loss', lang)} {losses[-1]:.4f}")
    mean = mean_train_loss(folder) if state.status == "finished" else None
    if mean is not None:
        details.append(f"{text('mean_train_loss', lang)} {mean:.4f}")
    if evals:  # "final" only for a run that reached its end: a stopped run's is its last evaluation
        details.append(f"{text('final_eval' if state.status == 'finished' else 'last_eval', lang)} {evals[-1]:.4f}")
    if resume:
        details.append(resume)
    return head + (" · " + " · ".join(details) if details else "")


def show_method(method: str) -> Updates:
    """method -> each field shown when the method uses it, and the method's notes."""
    shown = {f.key: gr.update(visible=not f.methods or method in f.methods) for f in FIELDS}
    return {**shown, "method_notes": method_notes(method)}


def mark(error: ArgumentError | None, marked_key: str | None, lang: str) -> tuple[str, Updates]:
    """An error -> (its message, named by the field's label; updates that mark the field, open its section and
    clear the last mark).  None -> ("", the last mark cleared)."""
    key = error.field if error is not None and error.field in MARKABLE else None
    updates: Updates = {"train_marked": key}
    if marked_key is not None and marked_key != key:
        updates[marked_key] = gr.update(elem_classes=[], info=LOCALES[marked_key][lang].get("info"))
    if error is None:
        return "", updates
    if key is None:
        return f"⚠ {text('invalid', lang)} · {error}", updates
    said = error.message.replace(f"--{key} ", "")  # on the board "e.g. --learning_rate 5e-5" reads "e.g. 5e-5"
    updates[key] = gr.update(elem_classes=["qllm-invalid"], info=f"⚠ {said}")
    if key in GROUP_OF:  # the top bar's model has no section
        updates[GROUP_OF[key]] = gr.update(open=True)
    return f"⚠ {text('invalid', lang)} · {LOCALES[key][lang]['label']}: {said}", updates


def launch_plan(values: tuple) -> tuple[dict[str, Any], int, str | None]:
    """top bar + form -> (checked `qllm train` arguments without sharding, processes, CUDA_VISIBLE_DEVICES)."""
    settings = form_settings(values)
    processes, visible = parse_devices(settings.get("devices"))
    model, method, template, quantization = (settings[key] for key in TOP_KEYS)
    return form_to_args(settings, model, method, template, quantization), processes, visible


def checked_launch(values: tuple) -> tuple[dict[str, Any], int, str | None]:
    """top bar + form -> (checked arguments, sharding included, processes, CUDA_VISIBLE_DEVICES); ArgumentError
    names the field."""
    args, processes, visible = launch_plan(values)
    return {**args, **sharding_args(form_settings(values).get("sharding"), processes)}, processes, visible


def preview_command(lang_name: str, marked_key: str | None, *values) -> Updates:
    """top bar + form -> the exact `python -m qllm train` (or torchrun) line, or the first problem, marked at its
    field.  A sharding this machine cannot run still shows its command (to run where it can), with the reason."""
    code = LANGUAGES[lang_name]
    try:
        args, processes, _ = launch_plan(values)
    except ArgumentError as err:
        message, updates = mark(err, marked_key, code)
        return {**updates, "command": gr.update(visible=False), "train_message": message}
    choice = form_settings(values).get("sharding")
    command = command_line({**args, **SHARDING.get(choice or "none", {})}, processes)
    try:
        sharding_args(choice, processes)
    except ArgumentError as err:
        message, updates = mark(err, marked_key, code)
        return {**updates, "command": gr.update(value=command, visible=True), "train_message": message}
    _, updates = mark(None, marked_key, code)
    return {**updates, "command": gr.update(value=command, visible=True), "train_message": ""}


def start(runner: Runner, lang_name: str, marked_key: str | None, *values) -> Updates:
    """top bar + form -> a started run (its arguments written to output_dir/train_args.yaml), or why not, at the
    field."""
    code = LANGUAGES[lang_name]
    if runner.busy():
        return {"train_message": f"⚠ {text('busy', code)}"}
    try:
        args, processes, visible = checked_launch(values)
    except ArgumentError as err:
        message, updates = mark(err, marked_key, code)
        return {**updates, "train_message": message}
    claim_run_folder(Path(args["output_dir"]), [TRAIN_ARGS])  # checked above: missing, empty or a run's
    path = write_args(args_file(args), args)
    runner.start([Job("train", str(path), args["output_dir"], processes, visible)], form=form_settings(values))
    _, updates = mark(None, marked_key, code)
    return {**updates, "train_message": "", "train_status": status_markdown(runner, code)}


def stop(runner: Runner, lang_name: str) -> Updates:
    runner.stop()
    return {"train_status": status_markdown(runner, LANGUAGES[lang_name])}


def watcher(runner: Runner) -> RunMonitor:
    """The Train tab's watcher: besides console.log, the run's trainer log changes while it trains."""
    return RunMonitor(runner, "train", watched=(TRAINER_LOG, CIRCUIT_LOG), log_lines=FULL_LOG_LINES)


def monitor(watcher: RunMonitor, lang_name: str, zoomed: str, seen: dict | None) -> Updates:
    """(timer, page load) -> status, progress bar, log, loss chart of the current or last training run."""
    view = watcher.look(lang_name, seen)
    if view is None:  # nothing changed since this page last drew
        return {}
    if view.state is None:
        idle = {"train_status": text("idle", view.lang), "train_progress": "", "log": "", "full_log": ""}
        return {
            **idle,
            "loss_plot": None,
            "circuit_plot": gr.update(value=None, visible=False),
            "train_seen": view.drawn,
        }
    state = view.state
    records = read_log(state.folder)
    latest = dict(records[-1]) if records else None
    if latest and state.status == "finished":
        latest.update(current_steps=latest["total_steps"], percentage=100.0, remaining_time=None)
    elif latest and state.status != "running":
        latest["remaining_time"] = None
    updates = {
        "train_status": status_markdown(watcher.runner, view.lang, state, view.console),
        "train_progress": progress_html(latest, view.lang),
        "log": view.log(),
        "full_log": view.console,
        # a zoom belongs to the run it was made on: another run is drawn whole, and the zoom is forgotten
        "loss_plot": keep_zoom(loss_figure(state.folder, view.lang), zoomed if view.same_job else ""),
        "circuit_plot": inside_the_adapter(state.folder, view.lang),
        "train_seen": view.drawn,
    }
    if not view.same_job:
        updates["loss_zoom"] = ""
    if view.just_ended:  # a message about an earlier action ("already in progress") is stale now
        updates["train_message"] = ""
        updates["finished_run"] = state.folder  # the pickers list what it saved (a stopped run's checkpoints too)
    return updates


def inside_the_adapter(folder: str | Path, lang: str):
    """The "Inside the adapter" chart of a vqc / tq run that writes circuit_log.jsonl; hidden for any other run."""
    if not (Path(folder) / CIRCUIT_LOG).is_file():
        return gr.update(value=None, visible=False)
    return gr.update(value=circuit_figure(folder, lang), visible=True)


ANSATZ_MAX_DEPTH = 4  # layers drawn while configuring; deeper circuits repeat the same layer


def ansatz(lang_name: str, method: str, n_qubits: float | None, q_depth: float | None) -> Updates:
    """method, qubits, depth -> the vqc / tq ansatz as training starts it, drawn from the simulators' gate list."""
    if method not in CIRCUIT_METHODS:
        return {"ansatz_diagram": gr.update(visible=False)}
    drawing, circuits = load("qllm.circuit.drawing"), load("qllm.circuit.qiskit_circuit")
    code = LANGUAGES[lang_name]
    try:
        n, depth = int(n_qubits), int(q_depth)
    except (TypeError, ValueError):
        n, depth = 0, 0
    if not (1 <= n <= MAX_QUBITS and 1 <= depth):
        said = text("ansatz_unset", code).format(n=n_qubits if n_qubits is not None else "–", depth=q_depth)
        return {"ansatz_diagram": gr.update(visible=True, value=f"<p>{said}</p>")}
    drawn = min(depth, ANSATZ_MAX_DEPTH)
    caption = text("ansatz_caption", code).format(n=n, depth=depth)
    if drawn < depth:
        caption += " " + text("ansatz_first_layers", code).format(layers=drawn)
    svg = drawing.inline_svg(circuits.ansatz_circuit(n, drawn))
    return {"ansatz_diagram": gr.update(visible=True, value=f'<p class="qllm-caption">{caption}</p>{svg}')}


def preview_data(names: list[str] | None) -> Updates:
    """selected datasets -> their first rows."""
    return {"data_preview": gr.update(value=dataset_preview(names or []), visible=True)}


def save_settings(lang_name: str, name: str, *values) -> Updates:
    """the top bar and form -> saves/configs/<name>.yaml, listed in the picker."""
    try:
        path = save_config(name, form_settings(values))
    except ArgumentError as err:
        return {"train_message": f"⚠ {err}"}
    saved = f"{text('saved_config', LANGUAGES[lang_name])} `{path}`"
    return {"config_name": gr.update(choices=list_configs(), value=name), "train_message": saved}


def load_settings(lang_name: str, name: str) -> Updates:
    """a saved configuration -> the top bar and form values it holds."""
    try:
        settings = load_config(name)
    except ArgumentError as err:
        return {"train_message": f"⚠ {err}"}
    restored = {key: settings[key] for key in (*TOP_KEYS, *FIELD_KEYS) if key in settings}
    return {**restored, "train_message": text("loaded_config", LANGUAGES[lang_name])}


def config_choices() -> Updates:
    """page load -> the configurations saved since the board was built."""
    return {"config_name": gr.update(choices=list_configs())}


def compare_choices(model: str) -> Updates:
    return {"compare_runs": gr.update(choices=list(list_all_runs(model)))}


def compare(lang_name: str, model: str, labels: list[str] | None) -> Updates:
    """runs of any method -> one chart of their losses and a table of their numbers, in the page's language."""
    code = LANGUAGES[lang_name]
    runs = list_all_runs(model)
    chosen = {label: runs[label] for label in labels or [] if label in runs}
    rows = [run_summary(label, folder) for label, folder in chosen.items()]
    for row in rows:
        row[-1] = text(row[-1], code)
    return {
        "compare_plot": compare_figure(chosen, code),
        "compare_table": gr.update(value=rows, headers=headers("compare", code)),
    }


def restore_form(runner: Runner) -> Updates:
    """page load -> the top bar and the form as they were when the live or last training run started.

    A finished run's name is not brought back (Start would only refuse it), nor a ticked Overwrite run:
    replacing a run is chosen each time.
    """
    state = runner.train_state()
    if state is None or not state.form:
        return {}
    values = {**state.form, "overwrite_output_dir": False}
    if state.status == "finished":
        values["output_name"] = default_run_name()
    return {key: values[key] for key in (*TOP_KEYS, *FIELD_KEYS) if key in values}
