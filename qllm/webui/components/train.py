"""The Train tab's layout and wiring: the parameter form, run control, live monitor, and run comparison.

What each button and tick does is in `qllm.webui.handlers.train`.
"""

from __future__ import annotations

from functools import partial

import gradio as gr

from qllm.webui.catalog import dataset_choices, device_info, method_notes
from qllm.webui.configs import list_configs
from qllm.webui.handlers import train as handlers
from qllm.webui.locales import headers
from qllm.webui.runner import Runner
from qllm.webui.train_form import FIELD_KEYS, FIELDS, GROUPS, TOP_KEYS, default_run_name
from qllm.webui.wiring import Elements, connect

# the marked field may be far from the button pressed: bring it into view
SHOW_MARK = "() => document.querySelector('.qllm-invalid')?.scrollIntoView({block: 'center', behavior: 'smooth'})"


def _field(field) -> gr.components.Component:
    common = {"elem_id": field.key, "visible": not field.methods or "lora" in field.methods, "min_width": 160}
    if field.kind == "checkbox":
        return gr.Checkbox(value=field.default, **common)
    if field.kind == "dropdown":
        return gr.Dropdown(list(field.choices), value=field.default, **common)
    if field.kind == "multiselect":  # wide enough for a dataset's name on one line
        return gr.Dropdown(dataset_choices(), value=field.default, multiselect=True, **{**common, "min_width": 240})
    if field.kind in ("number", "int"):
        return gr.Number(value=field.default, precision=0 if field.kind == "int" else None, **common)
    if field.kind == "code":
        return gr.Textbox(value=field.default, lines=2, **common)
    value = default_run_name() if field.key == "output_name" else field.default
    return gr.Textbox(value=value, **common)


def _form(el: Elements) -> None:
    """The form's sections (all open but evaluation: Run name, in output, is set for each run) and its buttons."""
    for group in GROUPS:
        with gr.Accordion(open=group != "eval", elem_id=f"group_{group}") as el[f"group_{group}"]:
            with gr.Row(equal_height=False):
                for field in (f for f in FIELDS if f.group == group):
                    el[field.key] = _field(field)
            if group == "data":
                el["preview_data"] = gr.Button(size="sm", elem_id="preview_data")
                el["data_preview"] = gr.JSON(visible=False, elem_id="data_preview")
            if group == "method":  # what the fields mean, and good first values, one click away
                with gr.Accordion(open=False, elem_id="method_help") as el["method_help"]:
                    el["method_notes"] = gr.Markdown(method_notes("lora"), elem_id="method_notes")
                el["ansatz_diagram"] = gr.HTML(visible=False, elem_id="ansatz_diagram")  # vqc / tq: the circuit
    with gr.Row():
        el["preview_command"] = gr.Button(elem_id="preview_command")
        el["config_name"] = gr.Dropdown(list_configs(), allow_custom_value=True, value=None, elem_id="config_name")
        el["save_config"] = gr.Button(elem_id="save_config")
        el["load_config"] = gr.Button(elem_id="load_config")
    el["command"] = gr.Textbox(visible=False, buttons=["copy"], elem_id="command")


def _monitor(el: Elements) -> None:
    """Start / Stop (sticky: they never scroll away), the outcome, progress, chart and logs."""
    with gr.Row(elem_id="train_controls"):
        el["start"] = gr.Button(variant="primary", elem_id="start")
        el["stop"] = gr.Button(variant="stop", elem_id="stop")
    el["train_message"] = gr.Markdown(elem_id="train_message")  # the last action's outcome; cleared when the run ends
    el["train_status"] = gr.Markdown(elem_id="train_status")
    el["train_progress"] = gr.HTML(elem_id="train_progress")
    el["loss_plot"] = gr.Plot(elem_id="loss_plot")
    el["circuit_plot"] = gr.Plot(visible=False, elem_id="circuit_plot")  # vqc / tq: circuit_log.jsonl
    # the zoom the person chose on the chart, written by the page's script (interface.ZOOM_JS)
    el["loss_zoom"] = gr.Textbox(elem_id="loss_zoom", elem_classes=["qllm-hidden"], show_label=False, container=False)
    el["log"] = gr.Textbox(lines=6, max_lines=6, autoscroll=True, elem_id="log")
    with gr.Accordion(open=False, elem_id="full_log_box") as el["full_log_box"]:
        el["full_log"] = gr.Textbox(lines=16, max_lines=16, autoscroll=True, show_label=False, elem_id="full_log")


def _compare(el: Elements) -> None:
    """Runs of any method side by side: one loss chart, one table."""
    with gr.Accordion(open=False, elem_id="tab_compare") as el["tab_compare"]:
        with gr.Row():
            el["compare_runs"] = gr.Dropdown([], multiselect=True, scale=4, elem_id="compare_runs")
            el["compare"] = gr.Button(scale=1, elem_id="compare")
        el["compare_plot"] = gr.Plot(elem_id="compare_plot")
        el["compare_table"] = gr.Dataframe(
            headers=headers("compare", "en"),
            interactive=False,
            wrap=True,
            # all eight columns inside the form column (unset, the last two sat past its right edge)
            column_widths=["20%", "9%", "12%", "11%", "11%", "13%", "12%", "12%"],
            elem_id="compare_table",
        )


def _wire(demo: gr.Blocks, el: Elements, runner: Runner) -> None:
    method, form_values = el["finetuning_type"], [*TOP_KEYS, *FIELD_KEYS]
    connect(method.change, handlers.show_method, el, ["finetuning_type"], [*FIELD_KEYS, "method_notes"], queue=False)
    circuit, quiet = ["lang", "finetuning_type", "n_qubits", "q_depth"], {"show_progress": "hidden"}
    for event in (method.change, el["n_qubits"].change, el["q_depth"].change, el["lang"].change):
        # redrawn in place, no overlay: a pending drawing never covers the fields around it
        connect(event, handlers.ansatz, el, circuit, ["ansatz_diagram"], trigger_mode="always_last", **quiet)
    preview_outputs = ["command", "train_message", *handlers.MARK_OUTPUTS]
    connect(el["preview_command"].click, handlers.preview_command, el, handlers.FORM_INPUTS, preview_outputs).then(
        None, js=SHOW_MARK
    )
    start_outputs = ["train_message", "train_status", *handlers.MARK_OUTPUTS]
    connect(el["start"].click, partial(handlers.start, runner), el, handlers.FORM_INPUTS, start_outputs).then(
        None, js=SHOW_MARK
    )
    connect(el["stop"].click, partial(handlers.stop, runner), el, ["lang"], ["train_status"])
    watch = partial(handlers.monitor, handlers.watcher(runner))
    for event in (el["timer"].tick, demo.load):  # a reloaded page re-attaches to a live run
        connect(event, watch, el, ["lang", "loss_zoom", "train_seen"], handlers.MONITOR_OUTPUTS, show_progress="hidden")
    connect(el["preview_data"].click, handlers.preview_data, el, ["dataset"], ["data_preview"])
    settings = ["lang", "config_name", *form_values]
    connect(el["save_config"].click, handlers.save_settings, el, settings, ["config_name", "train_message"])
    loaded = [*form_values, "train_message"]
    connect(el["load_config"].click, handlers.load_settings, el, ["lang", "config_name"], loaded)
    for event in (el["tab_compare"].expand, el["model_name_or_path"].change):
        connect(event, handlers.compare_choices, el, ["model_name_or_path"], ["compare_runs"])
    compare_inputs = ["lang", "model_name_or_path", "compare_runs"]
    connect(el["compare"].click, handlers.compare, el, compare_inputs, ["compare_plot", "compare_table"])
    # Device is filled last: a page whose Device shows has its form restored (the browser tests wait for it).
    connect(demo.load, partial(handlers.restore_form, runner), el, [], form_values).then(
        device_info, None, [el["device"]], queue=False
    )
    connect(demo.load, handlers.config_choices, el, [], ["config_name"], queue=False)


def create_train_tab(demo: gr.Blocks, top: Elements, runner: Runner) -> Elements:
    el: Elements = dict(top)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, elem_id="train_form"):
            _form(el)
            _compare(el)  # under the form: nothing below the monitor's row pushes the sticky monitor out of view
        with gr.Column(scale=2, elem_id="train_monitor"):  # stays in view while the form scrolls (sticky, CSS)
            _monitor(el)
    el["timer"] = gr.Timer(2.0)
    el["train_marked"] = gr.State(None)  # the key of the field an error marks now
    el["train_seen"] = gr.State(None)  # what this page last drew, so an idle tick sends nothing to the browser
    _wire(demo, el, runner)
    return {key: component for key, component in el.items() if key not in top}
