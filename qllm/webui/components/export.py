"""The Export tab's layout and wiring; what its button and timer do is in `qllm.webui.handlers.export`."""

from __future__ import annotations

from functools import partial

import gradio as gr

from qllm.webui.handlers import export as handlers
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Runner
from qllm.webui.wiring import Elements, connect


def create_export_tab(demo: gr.Blocks, top: Elements, runner: Runner) -> Elements:
    el: Elements = dict(top)
    with gr.Row():
        el["export_name"] = gr.Textbox(scale=3, elem_id="export_name")
        el["start_export"] = gr.Button(variant="primary", scale=1, elem_id="start_export")
    el["export_explanation"] = gr.Markdown(elem_id="export_explanation")  # vqc/tq: why there is nothing to merge
    el["export_status"] = gr.Markdown(elem_id="export_status")
    el["export_log"] = gr.Textbox(lines=8, max_lines=8, autoscroll=True, elem_id="export_log")
    with gr.Column(visible=False, elem_id="circuit_box") as el["circuit_box"]:  # vqc / tq: the trained circuits
        el["circuit_module"] = gr.Dropdown([], elem_id="circuit_module")
        el["circuit_diagram"] = gr.HTML(elem_id="circuit_diagram")
        with gr.Row():
            el["download_qasm"] = gr.DownloadButton(variant="primary", elem_id="download_qasm")
            el["download_note"] = gr.DownloadButton(elem_id="download_note")
        el["adapter_circuit_plot"] = gr.Plot(visible=False, elem_id="adapter_circuit_plot")
    el["export_timer"] = gr.Timer(2.0)
    el["export_seen"] = gr.State(None)  # what this page last drew, so an idle tick reads no log and sends nothing

    chosen = ["lang", "model_name_or_path", "finetuning_type", "adapter"]
    view, drawn = [*chosen, "circuit_module"], {"show_progress": "minimal"}
    for event in (el["finetuning_type"].change, el["adapter"].change, el["lang"].change, demo.load):
        # then the circuit of the adapter now picked: the module's name may be the same as the last adapter's
        chose = connect(event, handlers.choice, el, chosen, handlers.CHOICE_OUTPUTS)
        connect(chose.then, handlers.circuit_view, el, view, handlers.CIRCUIT_OUTPUTS, **drawn)
    connect(el["circuit_module"].input, handlers.circuit_view, el, view, handlers.CIRCUIT_OUTPUTS, **drawn)
    inputs = ["lang", "model_name_or_path", "finetuning_type", "template", "adapter", "export_name"]
    connect(el["start_export"].click, partial(handlers.start, runner), el, inputs, ["export_status"])
    watch = partial(handlers.monitor, RunMonitor(runner, "export"))
    connect(
        el["export_timer"].tick,
        watch,
        el,
        ["lang", "export_seen"],
        ["export_status", "export_log", "export_seen"],
        show_progress="hidden",
    )
    return {key: component for key, component in el.items() if key not in top}
