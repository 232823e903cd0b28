"""The Evaluate tab's layout and wiring: score adapters on a benchmark or a dataset, and keep a history.

What each button and tick does is in `qllm.webui.handlers.evaluate`.
"""

from __future__ import annotations

from functools import partial

import gradio as gr

from qllm.paths import EVALUATION_DIR
from qllm.webui.handlers import evaluate as handlers
from qllm.webui.handlers import robustness as sweep
from qllm.webui.locales import headers
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Runner
from qllm.webui.saves import list_adapters
from qllm.webui.wiring import Elements, connect


def _layout(el: Elements) -> None:
    with gr.Row():
        tasks = handlers.task_list("en", EVALUATION_DIR)
        el["task"] = gr.Dropdown(tasks, value=handlers.default_task(), elem_id="task")
        el["task_dir"] = gr.Textbox(value=str(EVALUATION_DIR), elem_id="task_dir")
        el["n_shot"] = gr.Number(value=5, precision=0, minimum=0, elem_id="n_shot")
        el["eval_lang"] = gr.Dropdown(["auto", "en", "zh"], value="auto", elem_id="eval_lang")
        el["split"] = gr.Dropdown(["test", "val", "dev"], value="test", elem_id="split")
        el["batch_size"] = gr.Number(value=4, precision=0, minimum=1, elem_id="batch_size")
    with gr.Row():  # how vqc / tq circuits are read (the other methods have none)
        el["eval_shots"] = gr.Number(value=0, precision=0, minimum=0, elem_id="eval_shots")
        el["eval_noise"] = gr.Textbox(value="0", elem_id="eval_noise")
        el["eval_ablation"] = gr.Dropdown(["none", "mean", "zero"], value="none", elem_id="eval_ablation")
    with gr.Row():
        el["eval_adapters"] = gr.Dropdown(
            list_adapters("qllm-tiny"), multiselect=True, scale=4, elem_id="eval_adapters"
        )
        el["start_eval"] = gr.Button(variant="primary", scale=1, elem_id="start_eval")
        el["stop_eval"] = gr.Button(variant="stop", scale=1, elem_id="stop_eval")
    el["eval_message"] = gr.Markdown(elem_id="eval_message")
    el["eval_status"] = gr.Markdown(elem_id="eval_status")
    el["eval_log"] = gr.Textbox(lines=6, max_lines=6, autoscroll=True, elem_id="eval_log")
    el["eval_results"] = gr.Dataframe(
        headers=headers("results", "en"), interactive=False, wrap=True, elem_id="eval_results"
    )
    el["eval_note"] = gr.Markdown(elem_id="eval_note")  # how to read the scores: what Average is, the chance level
    el["eval_history"] = gr.Dataframe(
        headers=headers("history", "en"),
        interactive=False,
        wrap=True,
        # every column inside the tab: unset, the data column sat past the right edge
        column_widths=["13%", "17%", "10%", "7%", "8%", "26%", "19%"],
        elem_id="eval_history",
    )


def _robustness_layout(el: Elements) -> None:
    """The sweep of one vqc / tq adapter over shots, noise and ablation, with the task settings above."""
    with gr.Accordion(open=False, elem_id="group_robustness") as el["group_robustness"]:
        el["robustness_help"] = gr.Markdown(elem_id="robustness_help")
        with gr.Row():
            el["sweep_shots"] = gr.Textbox(value="0,10000,1000,100", elem_id="sweep_shots")
            el["sweep_noise"] = gr.Textbox(value="0,0.001,0.01", elem_id="sweep_noise")
            el["sweep_ablation"] = gr.CheckboxGroup(
                ["none", "mean", "zero"], value=["none", "mean"], elem_id="sweep_ablation"
            )
            el["sweep_repeats"] = gr.Number(value=3, precision=0, minimum=1, elem_id="sweep_repeats")
        with gr.Row():
            el["start_sweep"] = gr.Button(variant="primary", elem_id="start_sweep")
            el["stop_sweep"] = gr.Button(variant="stop", elem_id="stop_sweep")
        el["sweep_message"] = gr.Markdown(elem_id="sweep_message")
        el["sweep_status"] = gr.Markdown(elem_id="sweep_status")
        el["sweep_log"] = gr.Textbox(lines=4, max_lines=4, autoscroll=True, elem_id="sweep_log")
        el["sweep_plot"] = gr.Plot(elem_id="sweep_plot")
        el["sweep_table"] = gr.Markdown(elem_id="sweep_table")


def _wire_robustness(demo: gr.Blocks, el: Elements, runner: Runner) -> None:
    el["sweep_seen"] = gr.State(None)
    connect(el["start_sweep"].click, partial(sweep.start, runner), el, sweep.START_INPUTS, ["sweep_message"])
    connect(el["stop_sweep"].click, partial(sweep.stop, runner), el, [], [])
    watch = partial(sweep.monitor, sweep.watcher(runner))
    for event in (el["eval_timer"].tick, demo.load):
        connect(event, watch, el, ["lang", "sweep_seen"], sweep.MONITOR_OUTPUTS, show_progress="hidden")


def create_eval_tab(demo: gr.Blocks, top: Elements, runner: Runner) -> Elements:
    el: Elements = dict(top)
    _layout(el)
    _robustness_layout(el)
    el["eval_timer"] = gr.Timer(2.0)
    el["eval_seen"] = gr.State(None)  # what this page last drew, so an idle tick reads no result files
    model = ["model_name_or_path"]
    for event in (el["model_name_or_path"].change, demo.load):  # filled on every page load, not only on a change
        connect(event, handlers.adapter_choices, el, model, ["eval_adapters"], queue=False)
    chosen = [*model, "eval_adapters"]
    connect(el["finished_run"].change, handlers.add_finished_run, el, chosen, ["eval_adapters"], queue=False)
    for event in (demo.load, el["lang"].change, el["task_dir"].blur):  # tasks described in the page's language
        connect(event, handlers.task_choices, el, ["lang", "task_dir", "task"], ["task"], queue=False)
    connect(el["start_eval"].click, partial(handlers.start, runner), el, handlers.START_INPUTS, ["eval_message"])
    connect(el["stop_eval"].click, partial(handlers.stop, runner), el, [], [])
    watch = partial(handlers.monitor, RunMonitor(runner, "eval"))
    for event in (el["eval_timer"].tick, demo.load):
        connect(event, watch, el, ["lang", *model, "eval_seen"], handlers.MONITOR_OUTPUTS, show_progress="hidden")
    _wire_robustness(demo, el, runner)
    return {key: component for key, component in el.items() if key not in top}
