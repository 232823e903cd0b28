"""The top bar shared by all tabs: language, model, method, template, adapter, device."""

from __future__ import annotations

import gradio as gr

from qllm.data.template import TEMPLATE_CHOICES
from qllm.methods import METHODS
from qllm.webui.control import MODELS, default_adapter, list_runs
from qllm.webui.locales import LANGUAGES, text

NO_ADAPTER = ""  # the picker's value for "none": chat, evaluate and export use the base model alone


def adapter_choices(model: str, method: str, lang_name: str, keep: str | None = None):
    """The Adapter picker: "none (base model)" first, then the runs and checkpoints of this model and method.

    The newest finished run is picked, unless ``keep`` (the current pick, on a language change) is still listed.
    """
    runs = list_runs(model, method)
    choices = [(text("no_adapter", LANGUAGES[lang_name]), NO_ADAPTER), *runs]
    picked = keep if keep is not None and (keep == NO_ADAPTER or keep in runs) else default_adapter(model, method, runs)
    return gr.update(choices=choices, value=picked if picked is not None else NO_ADAPTER)


def create_top(demo: gr.Blocks) -> dict[str, gr.components.Component]:
    with gr.Row(equal_height=True, elem_id="title_row"):
        title = gr.Markdown(elem_id="title", scale=4)
        lang = gr.Dropdown(list(LANGUAGES), value="English", scale=1, min_width=120, elem_id="lang")
        device = gr.Textbox(interactive=False, scale=1, min_width=200, elem_id="device")
    with gr.Row(equal_height=True):
        model = gr.Dropdown(MODELS, value=MODELS[0], allow_custom_value=True, scale=3, elem_id="model_name_or_path")
        method = gr.Dropdown(list(METHODS), value="lora", scale=2, elem_id="finetuning_type")
        template = gr.Dropdown(list(TEMPLATE_CHOICES), value="auto", scale=1, elem_id="template")
        adapter = gr.Dropdown(
            list_runs(MODELS[0], "lora"), value=None, allow_custom_value=True, scale=3, elem_id="adapter"
        )
        refresh = gr.Button(size="sm", scale=0, min_width=80, elem_id="refresh_adapters")
    # set by the Train monitor to the folder of a run that has just finished: the pickers list it at once
    finished_run = gr.State(None)

    # model, method -> the picker's choices, the newest finished run picked; a language change keeps the pick
    for trigger in (model.change, method.change, refresh.click, demo.load, finished_run.change):
        trigger(adapter_choices, [model, method, lang], [adapter], queue=False)
    lang.change(adapter_choices, [model, method, lang, adapter], [adapter], queue=False)
    return {
        "title": title,
        "lang": lang,
        "model_name_or_path": model,
        "finetuning_type": method,
        "template": template,
        "adapter": adapter,
        "refresh_adapters": refresh,
        "finished_run": finished_run,
        "device": device,
    }
