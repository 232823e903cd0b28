"""What the Export tab does: merge the top bar's lora/quanTA adapter into a standalone model (`qllm export`).

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
from qllm.webui.locales import LANGUAGES, text
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Job, Runner, write_args
from qllm.webui.saves import SAVES, model_folder, plain_name, run_folder
from qllm.webui.wiring import Updates

EXPORTS_FOLDER = "exports"
CHOICE_OUTPUTS = ("export_explanation", "export_name", "start_export", "export_status", "export_log")


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


def choice(lang_name: str, method: str, adapter: str | None) -> Updates:
    """method, adapter -> one clear state: for vqc/tq the reason alone (Export disabled, no name, the last
    export's status and log hidden); otherwise a name for the export and Export enabled."""
    refused = refusal(method, LANGUAGES[lang_name])
    mergeable = not refused
    suggested = f"{method}-{adapter.replace('/', '-')}-merged" if adapter and mergeable else ""
    return {
        "export_explanation": refused,
        "export_name": gr.update(value=suggested, interactive=mergeable),
        "start_export": gr.update(interactive=mergeable),
        "export_status": gr.update(visible=mergeable),
        "export_log": gr.update(visible=mergeable),
    }


def start(
    runner: Runner, lang_name: str, model: str, method: str, template: str, adapter: str | None, name: str | None
) -> Updates:
    """the top bar's adapter -> a started `qllm export` into saves/<model>/exports/<name>/model, or why not."""
    code = LANGUAGES[lang_name]
    refused = refusal(method, code)
    if refused:
        return {"export_status": refused}
    if runner.busy():
        return {"export_status": f"⚠ {text('busy', code)}"}
    if not adapter:
        return {"export_status": f"⚠ {text('choose_adapter', code)}"}
    try:
        folder = export_folder(model, (name or "").strip())
        adapter_path = run_folder(model, method, adapter)
    except ArgumentError as err:
        return {"export_status": f"⚠ {err}"}
    if folder.exists():
        return {"export_status": f"⚠ {text('export_exists', code)}: `{folder}`"}
    args = {
        "model_name_or_path": model,
        "adapter_name_or_path": str(adapter_path),
        "finetuning_type": method,
        "template": template,
        "export_dir": str(folder / EXPORTED_MODEL),
    }
    runner.start([Job("export", str(write_args(folder / EXPORT_ARGS, args)), str(folder))])
    return {"export_status": ""}


def monitor(watcher: RunMonitor, lang_name: str, seen: dict | None) -> Updates:
    """(timer) -> the export's status with its result path, and its log."""
    view = watcher.look(lang_name, seen)
    if view is None:
        return {}
    if view.state is None:  # no export this session: the tab shows what a choice of method said
        return {"export_seen": view.drawn}
    state = view.state
    head = f"**{text(state.status, view.lang)}**"
    if state.status == "finished":
        head += f" · {text('export_result', view.lang)} `{Path(state.folder) / EXPORTED_MODEL}`"
    elif state.status == "failed":
        head += f"\n\n{view.cause()}"
    return {"export_status": head, "export_log": view.log(), "export_seen": view.drawn}
