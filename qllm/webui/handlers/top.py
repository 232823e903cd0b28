"""What the top bar does: keep the Adapter picker listing the saved adapters of the chosen model and method."""

from __future__ import annotations

import gradio as gr

from qllm.webui.locales import LANGUAGES, text
from qllm.webui.saves import default_adapter, list_runs
from qllm.webui.wiring import Updates

NO_ADAPTER = ""  # the picker's value for "none": chat, evaluate and export use the base model alone


def adapter_choices(model: str, method: str, lang_name: str, keep: str | None = None) -> Updates:
    """The Adapter picker: "none (base model)" first, then the runs and checkpoints of this model and method.

    The newest finished run is picked, unless ``keep`` (the current pick, on a language change) is still listed.
    """
    runs = list_runs(model, method)
    choices = [(text("no_adapter", LANGUAGES[lang_name]), NO_ADAPTER), *runs]
    picked = keep if keep is not None and (keep == NO_ADAPTER or keep in runs) else default_adapter(model, method, runs)
    return {"adapter": gr.update(choices=choices, value=picked if picked is not None else NO_ADAPTER)}
