"""What the Evaluate tab does: queue one `qllm eval` per adapter, stop them, show scores and the history.

Handlers take the values of their inputs and return ``{element name: update}``;
`qllm.webui.components.evaluate` wires them.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import gradio as gr

from qllm.circuit import CIRCUIT_METHODS
from qllm.constants import EVAL_ARGS, EVALUATIONS_FOLDER, RESULTS_FILE, SCORING
from qllm.errors import ArgumentError
from qllm.eval.registry import find_task, list_tasks
from qllm.eval.tasks import CHOICES
from qllm.hparams.measurement_args import MeasurementArguments
from qllm.paths import DATA_DIR, EVALUATION_DIR
from qllm.webui.locales import LANGUAGES, headers, text
from qllm.webui.log_view import last_lines
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Job, Runner, write_args
from qllm.webui.saves import SAVES, adapter_folder, list_adapters, model_folder
from qllm.webui.train_form import quantization_bit
from qllm.webui.wiring import Updates

BUNDLED_SAMPLE = "bundled sample"  # how qllm.eval.public_benchmarks.describe_source names the bundled questions
MONITOR_OUTPUTS = ("eval_status", "eval_log", "eval_results", "eval_note", "eval_history", "eval_seen")
START_INPUTS = (
    "lang",
    "model_name_or_path",
    "finetuning_type",
    "template",
    "task",
    "task_dir",
    "n_shot",
    "eval_lang",
    "split",
    "batch_size",
    "eval_adapters",
    "eval_shots",
    "eval_noise",
    "eval_ablation",
    "quantization_bit",
)


def default_task() -> str:
    """The public MMLU once it is in task_dir (converted on a first, online evaluation), else the bundled sample."""
    return "mmlu" if (EVALUATION_DIR / "mmlu" / "mapping.json").is_file() else "mmlu_sample"


def task_list(lang: str, task_dir: str | Path) -> list[tuple[str, str]]:
    """(what the task is, in ``lang``; its name) for every task there is: eval.registry's benchmarks, task_dir's
    own folders, the datasets with a test split."""
    return [(task.shown(lang), task.name) for task in list_tasks(task_dir or EVALUATION_DIR, DATA_DIR)]


def task_choices(lang_name: str, task_dir: str, chosen: str | None) -> Updates:
    """The task list in the page's language, for task_dir as typed; the chosen task kept while it is listed."""
    choices = task_list(LANGUAGES[lang_name], task_dir)
    value = chosen if chosen in [name for _, name in choices] else default_task()
    return {"task": gr.update(choices=choices, value=value)}


def read_results(folder: str) -> dict | None:
    """An evaluation's results.json, or None before it is written."""
    path = Path(folder) / RESULTS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def result_rows(result: dict, lang: str = "en") -> list[list]:
    """An evaluation's scores, one per row, named in ``lang``: score, value (two decimals), questions."""
    if result.get("kind") == "exact_match":
        right = round(result["accuracy"] * result["total"])
        return [
            [f"{text('exact_match', lang)} (%)", f"{100 * result['accuracy']:.2f}", f"{right}/{result['total']}"],
            [text("eval_loss", lang), f"{result['eval_loss']:.4f}", str(result["total"])],
        ]
    counts: dict[str, list[int]] = {}  # category -> [right, asked]
    for subject in result.get("subjects", {}).values():
        for name in (subject["category"], "Average"):
            right, asked = counts.setdefault(name, [0, 0])
            counts[name] = [right + subject["correct"], asked + subject["total"]]
    return [
        [
            f"{text(name, lang)} {text('accuracy', lang)} (%)",
            f"{value:.2f}",
            "{}/{}".format(*counts.get(name, ("", ""))),
        ]
        for name, value in result.get("categories", {}).items()
    ]


def reading_text(result: dict, lang: str) -> str:
    """How an evaluation read the model, in ``lang`` ("" when as trained, exactly): its base's quantization and
    its circuits' reading, "base in 4 bits, 1000 shots (seed 0), ..."."""
    parts = (
        [text("reading_quantized", lang).format(bits=result["quantization_bit"])]
        if "quantization_bit" in result
        else []
    )
    measurement = result.get("measurement")
    if not measurement:
        return ", ".join(parts)
    if measurement["ablation"] != "none":
        return ", ".join([*parts, text("reading_ablated", lang).format(ablation=measurement["ablation"])])
    if measurement["shots"]:
        parts.append(text("reading_shots", lang).format(**measurement))
    if measurement["noise"] != "0":
        parts.append(text("reading_noise", lang).format(**measurement))
    return ", ".join(parts)


def scores_note(folder: str, result: dict, lang: str) -> str:
    """Whose scores the table shows (with several adapters, the last one scored), how its circuits were read,
    and for multiple choice what Average is and the chance level to compare with."""
    evaluated = Path(folder).parent.parent  # <method>/<run>[/checkpoint-N]/eval/<evaluation>
    whose = f"{text('scores_of', lang)} `{evaluated.relative_to(SAVES).as_posix()}`"
    if reading_text(result, lang):
        whose += f" · {reading_text(result, lang)}"
    if result.get("kind") != "choice":
        return whose
    return f"{whose} · " + text("scores_note", lang).format(chance=100 / len(CHOICES), choices=len(CHOICES))


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
        if reading_text(result, lang):  # a noisy, sampled or quantized reading is not the adapter's own score
            scores += f" · {reading_text(result, lang)}"
        data = result.get("data", "")
        if data.startswith(BUNDLED_SAMPLE):  # results.json keeps the CLI's English words; the table shows the page's
            data = text("bundled_sample", lang) + data.removeprefix(BUNDLED_SAMPLE)
        rows.append([when, adapter, result["task"], result["split"], result.get("n_shot", ""), scores, data])
    return rows


def adapter_choices(model: str) -> Updates:
    """model -> the saved adapters of every method (`method/run`): a vqc and a lora run are scored together."""
    return {"eval_adapters": gr.update(choices=list_adapters(model), value=[])}


def add_finished_run(model: str, chosen: list[str] | None) -> Updates:
    """A run has just finished: list it, keeping what is chosen."""
    return {"eval_adapters": gr.update(choices=list_adapters(model), value=chosen or [])}


def start(
    runner: Runner,
    lang_name: str,
    model: str,
    method: str,
    template: str,
    task_name: str,
    folder: str,
    shots: float,
    language: str,
    split: str,
    batch: float,
    chosen: list[str] | None,
    reading_shots: float | None = 0,
    reading_noise: str = "0",
    ablation: str = "none",
    quantization: str | None = "none",
) -> Updates:
    """settings + adapters -> one queued `qllm eval` per adapter (the base model when none is chosen); the
    shots / noise / ablation go to the vqc / tq adapters, whose circuits they read; the top bar's
    quantization loads the base in 8 or 4 bits."""
    code = LANGUAGES[lang_name]
    if runner.busy():
        return {"eval_message": f"⚠ {text('busy', code)}"}
    try:
        task = find_task(task_name, folder, DATA_DIR)
        if task.source != "dataset" and not Path(folder).is_dir():
            raise ArgumentError("task_dir", f"no folder '{folder}'")
        # each adapter is scored as the method it was trained with; the base model as the top bar's
        scored = [adapter_folder(model, adapter, field="adapters") for adapter in chosen or []]
        reading = MeasurementArguments(int(reading_shots or 0), reading_noise or "0", ablation or "none")
        if reading.active and not any(method in CIRCUIT_METHODS for method, _ in scored):
            flag = "shots" if reading.shots else "noise" if reading.noise_model else "circuit_ablation"
            default = {"shots": "0", "noise": "0", "circuit_ablation": "none"}[flag]
            raise ArgumentError(flag, text("reading_no_circuit", code).format(default=default))
    except ArgumentError as err:
        return {"eval_message": f"⚠ {err}"}
    stamp = time.strftime("%Y%m%d-%H%M%S")
    jobs = []
    for adapter_method, run in scored or [(method, SAVES / model_folder(model) / "base" / "model")]:
        save_dir = run / EVALUATIONS_FOLDER / f"{task.name}-{split}-{stamp}"
        args = {
            "model_name_or_path": model,
            "template": template,
            "finetuning_type": adapter_method,
            "task": task.name,
            "task_dir": folder,
            "n_shot": int(shots),
            "split": split,
            "batch_size": int(batch),
            "save_dir": str(save_dir),
        }
        if language != "auto":
            args["lang"] = language
        if scored:
            args["adapter_name_or_path"] = str(run)
        if quantization_bit(quantization) is not None:
            args["quantization_bit"] = quantization_bit(quantization)
        if adapter_method in CIRCUIT_METHODS and reading.active:
            args.update(
                shots=reading.shots, noise=reading.noise_model.spec(), circuit_ablation=reading.circuit_ablation
            )
        jobs.append(Job("eval", str(write_args(save_dir / EVAL_ARGS, args)), str(save_dir)))
    runner.start(jobs)
    return {"eval_message": ""}


def stop(runner: Runner) -> Updates:
    """Stop the evaluation (and the ones queued after it); a training run is stopped from its own tab."""
    runner.stop_kind("eval")
    return {}


def monitor(watcher: RunMonitor, lang_name: str, model: str, seen: dict | None) -> Updates:
    """(timer, page load) -> status with progress, log, results of the latest evaluation, this model's history."""
    view = watcher.look(lang_name, seen, model)
    if view is None:  # nothing changed since this page last drew
        return {}
    code, state = view.lang, view.state
    updates = {
        "eval_history": gr.update(value=eval_history(model, code), headers=headers("history", code)),
        "eval_seen": view.drawn,
    }
    if state is None:
        no_results = gr.update(value=[], headers=headers("results", code))
        return {**updates, "eval_status": "", "eval_log": "", "eval_note": "", "eval_results": no_results}
    percents = re.findall(rf"{SCORING}[^\n]*?(\d+)%\|", last_lines(view.console, 8))  # not the loading bars
    progress = f" · {percents[-1]}%" if percents and view.running else ""
    waiting = f" · +{len(state.queue)} queued" if state.queue else ""
    head = f"**{text(state.status, code)}**{progress}{waiting} · `{state.folder}`"
    if state.status == "failed":
        head += f"\n\n{view.cause()}"
    latest = state.folder if not view.running else (state.done[-1] if state.done else "")
    result = read_results(latest) if latest else None
    return {
        **updates,
        "eval_status": head,
        "eval_log": view.log(),
        "eval_results": gr.update(value=result_rows(result, code) if result else [], headers=headers("results", code)),
        "eval_note": scores_note(latest, result, code) if result else "",
    }
