"""The Train tab: the parameter form, run control, live monitor, and run comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from qllm.constants import CONSOLE_LOG, TRAIN_ARGS, TRAIN_RESULTS, TRAINER_LOG
from qllm.errors import ArgumentError
from qllm.train.log_file import read_log
from qllm.train.output_dir import claim_run_folder, last_complete_checkpoint
from qllm.webui.charts import compare_figure, keep_zoom, loss_figure
from qllm.webui.control import (
    dataset_choices,
    dataset_preview,
    device_info,
    file_mtime,
    list_all_runs,
    list_configs,
    load_config,
    method_notes,
    run_summary,
    save_config,
)
from qllm.webui.locales import LANGUAGES, LOCALES, headers, text
from qllm.webui.log_view import failure_cause, readable_log
from qllm.webui.runner import Job, Runner, RunState, write_args
from qllm.webui.train_form import (
    FIELD_KEYS,
    FIELDS,
    args_file,
    command_line,
    default_run_name,
    form_to_args,
    parse_devices,
)

TOP_KEYS = ("model_name_or_path", "finetuning_type", "template")  # the top bar's part of a run's settings
FULL_LOG_LINES = 400  # of console.log in "Full console.log"; the readable view is made from the same lines
GROUPS = (
    ("data", "group_data"),
    ("optim", "group_optim"),
    ("method", "group_method"),
    ("eval", "group_eval"),
    ("output", "group_output"),
)


def _component(field) -> gr.components.Component:
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


def form_settings(model: str, method: str, template: str, values: tuple) -> dict[str, Any]:
    """The top bar's choices and the form's values by key: what a saved configuration and a run's state keep."""
    return {**dict(zip(TOP_KEYS, (model, method, template))), **dict(zip(FIELD_KEYS, values))}


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


def status_markdown(runner: Runner, lang: str, state: RunState | None = None) -> str:
    """The outcome in plain words: progress, losses (each named for what it is) and path, or why it failed.

    A failed or stopped run that kept a complete checkpoint says so: Start with the same run
    name resumes from it.
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
        cause = failure_cause(runner.log_tail(12, state), lang)
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


def create_train_tab(
    demo: gr.Blocks, top: dict[str, gr.components.Component], runner: Runner
) -> dict[str, gr.components.Component]:
    elements: dict[str, gr.components.Component] = {}
    groups: dict[str, gr.Accordion] = {}
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, elem_id="train_form") as form_column:
            for group, locale_key in GROUPS:
                # every group open but evaluation: Run name (output) is what a person sets for each run
                with gr.Accordion(open=group != "eval", elem_id=locale_key) as accordion:
                    elements[locale_key] = groups[group] = accordion
                    with gr.Row(equal_height=False):
                        for field in (f for f in FIELDS if f.group == group):
                            elements[field.key] = _component(field)
                    if group == "data":
                        preview_button = gr.Button(size="sm", elem_id="preview_data")
                        preview = gr.JSON(visible=False, elem_id="data_preview")
                    if group == "method":  # what the fields mean, and good first values, one click away
                        with gr.Accordion(open=False, elem_id="method_help") as method_help:
                            notes = gr.Markdown(method_notes("lora"), elem_id="method_notes")
            with gr.Row():
                preview_command = gr.Button(elem_id="preview_command")
                config_name = gr.Dropdown(list_configs(), allow_custom_value=True, value=None, elem_id="config_name")
                save_button = gr.Button(elem_id="save_config")
                load_button = gr.Button(elem_id="load_config")
            command = gr.Textbox(visible=False, buttons=["copy"], elem_id="command")
        # the monitor stays in view while the form scrolls (CSS: #train_monitor is sticky)
        with gr.Column(scale=2, elem_id="train_monitor"):
            with gr.Row(elem_id="train_controls"):  # sticky inside the monitor: Start and Stop never scroll away
                start = gr.Button(variant="primary", elem_id="start")
                stop = gr.Button(variant="stop", elem_id="stop")
            message = gr.Markdown(elem_id="train_message")  # the last action's outcome; cleared when the run ends
            status = gr.Markdown(elem_id="train_status")
            progress = gr.HTML(elem_id="train_progress")
            plot = gr.Plot(elem_id="loss_plot")
            # the zoom the person chose on the chart, written by the page's script (interface.ZOOM_JS)
            zoom = gr.Textbox(elem_id="loss_zoom", elem_classes=["qllm-hidden"], show_label=False, container=False)
            log = gr.Textbox(lines=6, max_lines=6, autoscroll=True, elem_id="log")
            with gr.Accordion(open=False, elem_id="full_log_box") as full_log_box:
                full_log = gr.Textbox(lines=16, max_lines=16, autoscroll=True, show_label=False, elem_id="full_log")
    form = [elements[key] for key in FIELD_KEYS]
    timer = gr.Timer(2.0)

    model, method, template, lang = top["model_name_or_path"], top["finetuning_type"], top["template"], top["lang"]

    def show_method_fields(chosen: str):
        """method -> visibility of each method-specific field."""
        return [gr.update(visible=not f.methods or chosen in f.methods) for f in FIELDS]

    method.change(show_method_fields, [method], form, queue=False)
    method.change(method_notes, [method], [notes], queue=False)

    def checked_launch(lang_name, model_name, method_name, template_name, *values):
        """form -> (checked `qllm train` arguments, processes, CUDA_VISIBLE_DEVICES); ArgumentError names the field."""
        form_values = dict(zip(FIELD_KEYS, values))
        processes, visible = parse_devices(form_values.get("devices"))
        return form_to_args(form_values, model_name, method_name, template_name), processes, visible

    # Fields an error can point at: the form's and the top bar's model; their groups open to show the mark.
    markable = {"model_name_or_path": model, **{key: elements[key] for key in FIELD_KEYS}}
    group_of = {f.key: f.group for f in FIELDS}
    group_boxes = list(groups.values())
    marked = gr.State(None)  # the key of the field marked now

    def report(error: ArgumentError | None, marked_key: str | None, code: str) -> tuple[str, list, str | None]:
        """An error -> (the message, updates that mark its field and clear the last mark, the marked key)."""
        key = error.field if error is not None and error.field in markable else None
        message = ""
        # on the board a field is named by its label: "e.g. --learning_rate 5e-5" reads "e.g. 5e-5"
        said = error.message.replace(f"--{key} ", "") if key else ""
        if error is not None:
            named = f"{LOCALES[key][code]['label']}: {said}" if key else str(error)
            message = f"⚠ {text('invalid', code)} · {named}"
        updates = []
        for name in markable:
            if name == key:
                info = f"⚠ {said}"
                updates.append(gr.update(elem_classes=["qllm-invalid"], info=info))
            elif name == marked_key:
                updates.append(gr.update(elem_classes=[], info=LOCALES[name][code].get("info")))
            else:
                updates.append(gr.skip())
        updates += [gr.update(open=True) if key and group_of.get(key) == g else gr.skip() for g in groups]
        return message, updates, key

    mark_outputs = [*markable.values(), *group_boxes, marked]
    # the marked field may be far from the button pressed: bring it into view
    show_mark = "() => document.querySelector('.qllm-invalid')?.scrollIntoView({block: 'center', behavior: 'smooth'})"

    def on_preview_command(lang_name, marked_key, model_name, method_name, template_name, *values):
        """form -> the exact `python -m qllm train` (or torchrun) line, or the first problem, marked at its field."""
        code = LANGUAGES[lang_name]
        try:
            args, processes, _ = checked_launch(lang_name, model_name, method_name, template_name, *values)
        except ArgumentError as err:
            message, updates, key = report(err, marked_key, code)
            return gr.update(visible=False), message, *updates, key
        _, updates, key = report(None, marked_key, code)
        return gr.update(value=command_line(args, processes), visible=True), "", *updates, key

    inputs = [lang, marked, model, method, template, *form]
    preview_command.click(on_preview_command, inputs, [command, message, *mark_outputs]).then(None, js=show_mark)

    def on_start(lang_name, marked_key, model_name, method_name, template_name, *values):
        """form -> a started run (its arguments written to output_dir/train_args.yaml), or why not, at the field."""
        code = LANGUAGES[lang_name]
        if runner.busy():
            return f"⚠ {text('busy', code)}", gr.update(), *([gr.skip()] * len(mark_outputs))
        try:
            args, processes, visible = checked_launch(lang_name, model_name, method_name, template_name, *values)
        except ArgumentError as err:
            message, updates, key = report(err, marked_key, code)
            return message, gr.update(), *updates, key
        claim_run_folder(Path(args["output_dir"]), [TRAIN_ARGS])  # checked above: missing, empty or a run's
        path = write_args(args_file(args), args)
        settings = form_settings(model_name, method_name, template_name, values)
        runner.start([Job("train", str(path), args["output_dir"], processes, visible)], form=settings)
        _, updates, key = report(None, marked_key, code)
        return "", status_markdown(runner, code), *updates, key

    start.click(on_start, inputs, [message, status, *mark_outputs]).then(None, js=show_mark)

    def on_stop(lang_name):
        runner.stop()
        return status_markdown(runner, LANGUAGES[lang_name])

    stop.click(on_stop, [lang], [status])

    seen = gr.State(None)  # what this page last drew, so an idle tick sends nothing to the browser

    def monitor(lang_name, zoomed, last_drawn):
        """(timer, page load) -> status, progress bar, log tail, loss chart of the current or last training run."""
        code = LANGUAGES[lang_name]
        state = runner.train_state()  # while an evaluation runs: the training run before it
        if state is None:
            return text("idle", code), "", "", "", None, None, gr.skip(), gr.skip(), gr.skip()
        drawn = [
            lang_name,
            state.folder,
            state.status,
            *(file_mtime(Path(state.folder) / name) for name in (TRAINER_LOG, CONSOLE_LOG)),
        ]
        if drawn == last_drawn:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), last_drawn, gr.skip(), gr.skip(), gr.skip()
        # a zoom belongs to the run it was made on: another run is drawn whole, and the zoom is forgotten
        same_run = last_drawn is not None and last_drawn[1] == state.folder
        zoomed = zoomed if same_run else ""
        records = read_log(state.folder)
        latest = dict(records[-1]) if records else None
        if latest and state.status == "finished":
            latest.update(current_steps=latest["total_steps"], percentage=100.0, remaining_time=None)
        elif latest and state.status != "running":
            latest["remaining_time"] = None
        # the run this page watched has just ended: a message about an earlier action ("already in progress") is stale
        ended = last_drawn is not None and last_drawn[2] == "running" and state.status != "running"
        console = runner.log_tail(FULL_LOG_LINES, state)
        return (
            status_markdown(runner, code, state),
            progress_html(latest, code),
            readable_log(console, running=state.status == "running"),
            console,
            keep_zoom(loss_figure(state.folder, code), zoomed),
            drawn,
            "" if ended else gr.skip(),
            gr.skip() if same_run else "",
            state.folder if ended else gr.skip(),  # the pickers list what it saved (a stopped run's checkpoints too)
        )

    monitor_outputs = [status, progress, log, full_log, plot, seen, message, zoom, top["finished_run"]]
    timer.tick(monitor, [lang, zoom, seen], monitor_outputs, show_progress="hidden")

    def on_preview_data(names):
        """selected datasets -> their first rows."""
        return gr.update(value=dataset_preview(names or []), visible=True)

    preview_button.click(on_preview_data, [elements["dataset"]], [preview])

    def on_save_config(lang_name, name, model_name, method_name, template_name, *values):
        code = LANGUAGES[lang_name]
        settings = form_settings(model_name, method_name, template_name, values)
        try:
            path = save_config(name, settings)
        except ArgumentError as err:
            return gr.update(), f"⚠ {err}"
        return gr.update(choices=list_configs(), value=name), f"{text('saved_config', code)} `{path}`"

    save_button.click(on_save_config, [lang, config_name, model, method, template, *form], [config_name, message])

    def on_load_config(lang_name, name):
        """a saved configuration -> the top bar and form values."""
        try:
            settings = load_config(name)
        except ArgumentError as err:
            return [gr.update()] * (3 + len(form)) + [f"⚠ {err}"]
        top_values = [settings.get(k, gr.update()) for k in TOP_KEYS]
        return (
            top_values
            + [settings.get(k, gr.update()) for k in FIELD_KEYS]
            + [text("loaded_config", LANGUAGES[lang_name])]
        )

    load_button.click(on_load_config, [lang, config_name], [model, method, template, *form, message])

    # under the form, so that nothing below the monitor's row pushes the sticky monitor out of view
    with form_column, gr.Accordion(open=False, elem_id="tab_compare") as compare_box:
        with gr.Row():
            compare_runs = gr.Dropdown([], multiselect=True, scale=4, elem_id="compare_runs")
            compare_button = gr.Button(scale=1, elem_id="compare")
        compare_plot = gr.Plot(elem_id="compare_plot")
        compare_table = gr.Dataframe(
            headers=headers("compare", "en"),
            interactive=False,
            wrap=True,
            # all eight columns inside the form column (unset, the last two sat past its right edge)
            column_widths=["20%", "9%", "12%", "11%", "11%", "13%", "12%", "12%"],
            elem_id="compare_table",
        )

    def refresh_compare_choices(model_name):
        return gr.update(choices=list(list_all_runs(model_name)))

    compare_box.expand(refresh_compare_choices, [model], [compare_runs])
    model.change(refresh_compare_choices, [model], [compare_runs])

    def on_compare(lang_name, model_name, labels):
        """runs of any method -> one chart of their losses and a table of their numbers, in the page's language."""
        code = LANGUAGES[lang_name]
        runs = list_all_runs(model_name)
        chosen = {label: runs[label] for label in labels or [] if label in runs}
        rows = [run_summary(label, folder) for label, folder in chosen.items()]
        for row in rows:
            row[-1] = text(row[-1], code)
        return compare_figure(chosen, code), gr.update(value=rows, headers=headers("compare", code))

    compare_button.click(on_compare, [lang, model, compare_runs], [compare_plot, compare_table])

    elements.update(
        preview_data=preview_button,
        method_help=method_help,
        method_notes=notes,
        preview_command=preview_command,
        config_name=config_name,
        save_config=save_button,
        load_config=load_button,
        start=start,
        stop=stop,
        command=command,
        train_status=status,
        train_message=message,
        log=log,
        full_log_box=full_log_box,
        full_log=full_log,
        loss_plot=plot,
        tab_compare=compare_box,
        compare_runs=compare_runs,
        compare=compare_button,
        compare_plot=compare_plot,
        compare_table=compare_table,
        timer=timer,
    )

    def restore_form():
        """page load -> the top bar and the form as they were when the live or last training run started.

        A finished run's name is not brought back (Start would only refuse it), nor a ticked Overwrite run:
        replacing a run is chosen each time.
        """
        state = runner.train_state()
        if state is None or not state.form:
            return [gr.skip()] * (len(TOP_KEYS) + len(form))
        values = {**state.form, "overwrite_output_dir": False}
        if state.status == "finished":
            values["output_name"] = default_run_name()
        return [values.get(key, gr.skip()) for key in (*TOP_KEYS, *FIELD_KEYS)]

    # Device is filled last: a page whose Device shows has its form restored (the browser tests wait for it).
    demo.load(restore_form, None, [model, method, template, *form]).then(
        device_info, None, [top["device"]], queue=False
    )
    demo.load(monitor, [lang, zoom, seen], monitor_outputs)  # a reloaded page re-attaches to a live run
    demo.load(lambda: gr.update(choices=list_configs()), None, [config_name], queue=False)  # saved since the build
    return elements
