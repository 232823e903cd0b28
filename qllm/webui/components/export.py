"""The Export tab: merge the top bar's lora/quanTA adapter into a standalone model folder (`qllm export`).

The merge runs as a subprocess owned by the Runner, like training and evaluation: its
console log and arguments sit in saves/<model>/exports/<name>/, the model in its `model/`
folder.  vqc and tq adapters are not linear maps of the input, so they cannot be folded
into the weights; the tab says why instead of starting anything.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from qllm.constants import EXPORT_ARGS, EXPORTED_MODEL
from qllm.errors import ArgumentError
from qllm.methods import METHODS
from qllm.webui.control import SAVES, file_mtime, model_folder, plain_name, run_folder
from qllm.webui.locales import LANGUAGES, text
from qllm.webui.log_view import log_cause, readable_log
from qllm.webui.runner import Job, Runner, write_args

EXPORTS_FOLDER = "exports"


def export_folder(model: str, name: str) -> Path:
    return SAVES / model_folder(model) / EXPORTS_FOLDER / plain_name(name, "export_name")


def refusal(method: str, lang: str) -> str:
    """Why this method's adapters cannot be exported ("" when they can)."""
    spec = METHODS[method]
    return (
        ""
        if spec.mergeable
        else f"⚠ {text('not_mergeable', lang).format(method=method)}: {spec.not_mergeable_why[lang]}"
    )


def create_export_tab(demo: gr.Blocks, top: dict, runner: Runner) -> dict[str, gr.components.Component]:
    with gr.Row():
        name = gr.Textbox(scale=3, elem_id="export_name")
        start = gr.Button(variant="primary", scale=1, elem_id="start_export")
    explanation = gr.Markdown(elem_id="export_explanation")  # vqc/tq: why there is nothing to merge
    status = gr.Markdown(elem_id="export_status")
    log = gr.Textbox(lines=8, max_lines=8, autoscroll=True, elem_id="export_log")
    timer = gr.Timer(2.0)
    model, method, template, adapter, lang = (
        top[k] for k in ("model_name_or_path", "finetuning_type", "template", "adapter", "lang")
    )

    def on_choice(lang_name, method_name, adapter_name):
        """method, adapter -> one clear state: for vqc/tq the reason alone (Export disabled, no name, the
        last export's status and log hidden); otherwise a name for the export and Export enabled."""
        refused = refusal(method_name, LANGUAGES[lang_name])
        mergeable = not refused
        suggested = f"{method_name}-{adapter_name.replace('/', '-')}-merged" if adapter_name and mergeable else ""
        return (
            refused,
            gr.update(value=suggested, interactive=mergeable),
            gr.update(interactive=mergeable),
            gr.update(visible=mergeable),
            gr.update(visible=mergeable),
        )

    for trigger in (method.change, adapter.change, lang.change, demo.load):
        trigger(on_choice, [lang, method, adapter], [explanation, name, start, status, log], queue=False)

    def on_start(lang_name, model_name, method_name, template_name, adapter_name, export_name):
        """the top bar's adapter -> a started `qllm export` into saves/<model>/exports/<name>/model, or why not."""
        code = LANGUAGES[lang_name]
        refused = refusal(method_name, code)
        if refused:
            return refused
        if runner.busy():
            return f"⚠ {text('busy', code)}"
        if not adapter_name:
            return f"⚠ {text('choose_adapter', code)}"
        try:
            folder = export_folder(model_name, (export_name or "").strip())
            adapter_path = run_folder(model_name, method_name, adapter_name)
        except ArgumentError as err:
            return f"⚠ {err}"
        if folder.exists():
            return f"⚠ {text('export_exists', code)}: `{folder}`"
        args = {
            "model_name_or_path": model_name,
            "adapter_name_or_path": str(adapter_path),
            "finetuning_type": method_name,
            "template": template_name,
            "export_dir": str(folder / EXPORTED_MODEL),
        }
        runner.start([Job("export", str(write_args(folder / EXPORT_ARGS, args)), str(folder))])
        return ""

    start.click(on_start, [lang, model, method, template, adapter, name], [status])

    seen = gr.State(None)  # what this page last drew, so an idle tick reads no log and sends nothing

    def monitor(lang_name, last_drawn):
        """(timer) -> the export's status with its result path, and its log."""
        state = runner.state()
        if state is None or state.kind != "export":
            return gr.skip(), gr.skip(), last_drawn
        drawn = [lang_name, state.folder, state.status, file_mtime(state.log_path)]
        if drawn == last_drawn:
            return gr.skip(), gr.skip(), last_drawn
        code = LANGUAGES[lang_name]
        console = runner.log_tail(200)  # read once for the failure cause and the log box
        head = f"**{text(state.status, code)}**"
        if state.status == "finished":
            head += f" · {text('export_result', code)} `{Path(state.folder) / EXPORTED_MODEL}`"
        elif state.status == "failed":
            head += f"\n\n{log_cause(console, code)}"
        return head, readable_log(console, running=state.status == "running"), drawn

    timer.tick(monitor, [lang, seen], [status, log, seen], show_progress="hidden")
    return {"export_name": name, "start_export": start, "export_status": status, "export_log": log}
