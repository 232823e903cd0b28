"""What the Export tab does: merge the top bar's lora/quanTA/qpa adapter into a standalone model (`qllm export`).

The merge runs as a subprocess owned by the Runner, like training and evaluation: its
console log and arguments sit in saves/<model>/exports/<name>/, the model in its `model/`
folder.  vqc and tq adapters are not linear maps of the input, so they cannot be folded
into the weights; the tab says why, and exports what can be taken elsewhere instead: the
trained circuit of each adapted module, drawn, and as OpenQASM 3 with its JSON note
(`qllm.circuit`, as `qllm circuit --format qasm` writes them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from qllm.circuit import CIRCUIT_METHODS
from qllm.constants import CIRCUIT_LOG, EXPORT_ARGS, EXPORTED_MODEL
from qllm.errors import ArgumentError
from qllm.methods import METHODS
from qllm.webui.handlers.train import inside_the_adapter
from qllm.webui.heavy_imports import load
from qllm.webui.locales import LANGUAGES, text
from qllm.webui.monitor import RunMonitor
from qllm.webui.runner import Job, Runner, write_args
from qllm.webui.saves import SAVES, model_folder, plain_name, run_folder
from qllm.webui.wiring import Updates

EXPORTS_FOLDER = "exports"
CHOICE_OUTPUTS = (
    "export_explanation",
    "export_name",
    "start_export",
    "export_status",
    "export_log",
    "circuit_box",
    "circuit_module",
)
CIRCUIT_OUTPUTS = ("circuit_diagram", "download_qasm", "download_note", "adapter_circuit_plot")
# the board's own files to download: written (and replaced) only here, outside the user's folders
DOWNLOADS = Path(tempfile.gettempdir()) / "qllm-board-circuits"


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


def choice(lang_name: str, model: str, method: str, adapter: str | None) -> Updates:
    """method, adapter -> one clear state: for vqc/tq the reason alone (Export disabled, no name, the last
    export's status and log hidden) and the adapter's circuits to take elsewhere; otherwise a name for the
    export and Export enabled."""
    code = LANGUAGES[lang_name]
    refused = refusal(method, code)
    mergeable = not refused
    suggested = f"{method}-{adapter.replace('/', '-')}-merged" if adapter and mergeable else ""
    updates = {
        "export_explanation": refused,
        "export_name": gr.update(value=suggested, interactive=mergeable),
        "start_export": gr.update(interactive=mergeable),
        "export_status": gr.update(visible=mergeable),
        "export_log": gr.update(visible=mergeable),
        "circuit_box": gr.update(visible=False),
    }
    if method not in CIRCUIT_METHODS or not adapter:
        return updates
    try:
        modules = list(load("qllm.circuit.saved").read_circuits(run_folder(model, method, adapter)))
    except ArgumentError as err:
        return {**updates, "export_explanation": f"{refused}\n\n⚠ {err}"}
    explanation = f"{refused}\n\n{text('circuit_export_hint', code)}"
    module = gr.update(choices=modules, value=modules[0])
    return {
        **updates,
        "export_explanation": explanation,
        "circuit_box": gr.update(visible=True),
        "circuit_module": module,
    }


def circuit_view(lang_name: str, model: str, method: str, adapter: str | None, module: str | None) -> Updates:
    """A trained module's circuit: its drawing, its OpenQASM 3 file and JSON note to download, and the run's
    "Inside the adapter" chart (from circuit_log.jsonl, when the run wrote one)."""
    if method not in CIRCUIT_METHODS or not adapter or not module:
        return {}
    drawing, qasm, circuits, saved_circuits = (
        load(f"qllm.circuit.{name}") for name in ("drawing", "qasm", "qiskit_circuit", "saved")
    )
    code = LANGUAGES[lang_name]
    try:
        folder = run_folder(model, method, adapter)
        saved = saved_circuits.pick_circuit(saved_circuits.read_circuits(folder), module)
    except ArgumentError as err:
        return {"circuit_diagram": f"<p>⚠ {err}</p>"}
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    stem = f"{method}-{adapter.replace('/', '-')}-{saved.module}"
    program, note = DOWNLOADS / f"{stem}.qasm", DOWNLOADS / f"{stem}.json"
    program.write_text(qasm.circuit_qasm(saved), encoding="utf-8")
    note.write_text(qasm.note_json(saved, str(folder)), encoding="utf-8")
    caption = text("circuit_caption", code).format(
        adapter=adapter, module=saved.module, n=saved.n_qubits, depth=saved.q_depth, method=method
    )
    run = folder if (folder / CIRCUIT_LOG).is_file() else folder.parent  # a checkpoint's log is its run's
    svg = drawing.inline_svg(circuits.trained_circuit(saved))
    return {
        "circuit_diagram": f'<p class="qllm-caption">{caption}</p>{svg}',
        "download_qasm": gr.update(value=str(program)),
        "download_note": gr.update(value=str(note)),
        "adapter_circuit_plot": inside_the_adapter(run, code),
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
