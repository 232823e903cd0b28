"""The Evaluate tab: score adapters on a benchmark or a dataset, as subprocesses, and keep a history."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import gradio as gr

from qllm.constants import EVAL_ARGS, EVALUATIONS_FOLDER, RESULTS_FILE, SCORING
from qllm.errors import ArgumentError
from qllm.eval.tasks import CHOICES
from qllm.paths import EVALUATION_DIR
from qllm.webui.control import (
    BENCHMARKS,
    SAVES,
    adapter_folder,
    eval_history,
    eval_task_choices,
    file_mtime,
    list_adapters,
    model_folder,
)
from qllm.webui.locales import LANGUAGES, headers, text
from qllm.webui.log_view import last_lines, log_cause, readable_log
from qllm.webui.runner import Job, Runner, write_args


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


def scores_note(folder: str, result: dict, lang: str) -> str:
    """Whose scores the table shows (with several adapters, the last one scored), and for multiple choice
    what Average is and the chance level to compare with."""
    evaluated = Path(folder).parent.parent  # <method>/<run>[/checkpoint-N]/eval/<evaluation>
    whose = f"{text('scores_of', lang)} `{evaluated.relative_to(SAVES).as_posix()}`"
    if result.get("kind") != "choice":
        return whose
    return f"{whose} · " + text("scores_note", lang).format(chance=100 / len(CHOICES), choices=len(CHOICES))


def create_eval_tab(demo: gr.Blocks, top: dict, runner: Runner) -> dict[str, gr.components.Component]:
    with gr.Row():
        # the public MMLU once it is in task_dir (converted on a first, online evaluation), else the bundled sample
        installed = (EVALUATION_DIR / "mmlu" / "mapping.json").is_file()
        task = gr.Dropdown(eval_task_choices(), value="mmlu" if installed else "mmlu_sample", elem_id="task")
        task_dir = gr.Textbox(value=str(EVALUATION_DIR), elem_id="task_dir")
        n_shot = gr.Number(value=5, precision=0, minimum=0, elem_id="n_shot")
        lang = gr.Dropdown(["auto", "en", "zh"], value="auto", elem_id="eval_lang")
        split = gr.Dropdown(["test", "val", "dev"], value="test", elem_id="split")
        batch_size = gr.Number(value=4, precision=0, minimum=1, elem_id="batch_size")
    with gr.Row():
        adapters = gr.Dropdown(list_adapters("qllm-tiny"), multiselect=True, scale=4, elem_id="eval_adapters")
        start = gr.Button(variant="primary", scale=1, elem_id="start_eval")
        stop = gr.Button(variant="stop", scale=1, elem_id="stop_eval")
    message = gr.Markdown(elem_id="eval_message")
    status = gr.Markdown(elem_id="eval_status")
    log = gr.Textbox(lines=6, max_lines=6, autoscroll=True, elem_id="eval_log")
    results = gr.Dataframe(headers=headers("results", "en"), interactive=False, wrap=True, elem_id="eval_results")
    note = gr.Markdown(elem_id="eval_note")  # how to read the scores: what Average is, the chance level
    history = gr.Dataframe(
        headers=headers("history", "en"),
        interactive=False,
        wrap=True,
        # every column inside the tab: unset, the data column sat past the right edge
        column_widths=["13%", "17%", "10%", "7%", "8%", "26%", "19%"],
        elem_id="eval_history",
    )
    timer = gr.Timer(2.0)

    model, method, template, ui_lang = top["model_name_or_path"], top["finetuning_type"], top["template"], top["lang"]

    def refresh_adapters(model_name):
        """model -> the saved adapters of every method (`method/run`): a vqc and a lora run are scored together."""
        return gr.update(choices=list_adapters(model_name), value=[])

    for trigger in (model.change, demo.load):  # filled on every page load, not only on a change
        trigger(refresh_adapters, [model], [adapters], queue=False)

    def add_finished_run(model_name, chosen):
        """A run has just finished: list it, keeping what is chosen."""
        return gr.update(choices=list_adapters(model_name), value=chosen or [])

    top["finished_run"].change(add_finished_run, [model, adapters], [adapters], queue=False)

    def on_start(
        lang_name, model_name, method_name, template_name, task_name, folder, shots, language, split_name, batch, chosen
    ):
        """settings + adapters -> one queued `qllm eval` per adapter (the base model when none is chosen)."""
        code = LANGUAGES[lang_name]
        if runner.busy():
            return f"⚠ {text('busy', code)}"
        if not Path(folder).is_dir() and task_name in BENCHMARKS:
            return f"⚠ --task_dir: no folder '{folder}'"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        jobs = []
        for adapter in chosen or [None]:
            try:  # each adapter is scored as the method it was trained with; the base model as the top bar's
                adapter_method, run = (
                    adapter_folder(model_name, adapter, field="adapters")
                    if adapter
                    else (method_name, SAVES / model_folder(model_name) / "base" / "model")
                )
            except ArgumentError as err:
                return f"⚠ {err}"
            save_dir = run / EVALUATIONS_FOLDER / f"{task_name}-{split_name}-{stamp}"
            args = {
                "model_name_or_path": model_name,
                "template": template_name,
                "finetuning_type": adapter_method,
                "task": task_name,
                "task_dir": folder,
                "n_shot": int(shots),
                "split": split_name,
                "batch_size": int(batch),
                "save_dir": str(save_dir),
            }
            if language != "auto":
                args["lang"] = language
            if adapter:
                args["adapter_name_or_path"] = str(run)
            jobs.append(Job("eval", str(write_args(save_dir / EVAL_ARGS, args)), str(save_dir)))
        runner.start(jobs)
        return ""

    start.click(
        on_start,
        [ui_lang, model, method, template, task, task_dir, n_shot, lang, split, batch_size, adapters],
        [message],
    )

    def on_stop():
        """Stop the evaluation (and the ones queued after it); a training run is stopped from its own tab."""
        state = runner.state()
        if state is not None and state.kind == "eval":
            runner.stop()

    stop.click(on_stop, None, None)

    seen = gr.State(None)  # what this page last drew, so an idle tick reads no result files and sends nothing

    def monitor(lang_name, model_name, last_drawn):
        """(timer) -> status with progress, log tail, results of the latest evaluation, history of this model."""
        code = LANGUAGES[lang_name]
        state = runner.state()
        current = state if state is not None and state.kind == "eval" else None
        drawn = [lang_name, model_name]
        if current is not None:
            drawn += [current.folder, current.status, len(current.queue), file_mtime(current.log_path)]
        if drawn == last_drawn:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), last_drawn
        rows = gr.update(value=eval_history(model_name, code), headers=headers("history", code))
        no_results = gr.update(value=[], headers=headers("results", code))
        if current is None:
            return "", "", no_results, "", rows, drawn
        console = runner.log_tail(200)  # read once: progress, failure cause and log box come from it
        percents = re.findall(rf"{SCORING}[^\n]*?(\d+)%\|", last_lines(console, 8))  # not the loading bars
        progress = f" · {percents[-1]}%" if percents and state.status == "running" else ""
        waiting = f" · +{len(state.queue)} queued" if state.queue else ""
        head = f"**{text(state.status, code)}**{progress}{waiting} · `{state.folder}`"
        if state.status == "failed":
            head += f"\n\n{log_cause(console, code)}"
        latest = state.folder if state.status != "running" else (state.done[-1] if state.done else "")
        result = read_results(latest) if latest else None
        scores = gr.update(value=result_rows(result, code) if result else [], headers=headers("results", code))
        shown = readable_log(console, running=state.status == "running")
        return head, shown, scores, scores_note(latest, result, code) if result else "", rows, drawn

    outputs = [status, log, results, note, history, seen]
    timer.tick(monitor, [ui_lang, model, seen], outputs, show_progress="hidden")
    demo.load(monitor, [ui_lang, model, seen], outputs)
    return {
        "task": task,
        "task_dir": task_dir,
        "n_shot": n_shot,
        "eval_lang": lang,
        "split": split,
        "batch_size": batch_size,
        "eval_adapters": adapters,
        "start_eval": start,
        "stop_eval": stop,
        "eval_results": results,
        "eval_history": history,
        "eval_status": status,
        "eval_log": log,
    }
