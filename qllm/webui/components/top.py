"""The top bar shared by all tabs: language, model, method, template, adapter, device."""

from __future__ import annotations

import gradio as gr

from qllm.data.template import TEMPLATE_CHOICES
from qllm.methods import METHODS
from qllm.webui.control import MODELS, default_adapter, list_runs
from qllm.webui.locales import LANGUAGES


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
        refresh = gr.Button(scale=0, min_width=80, elem_id="refresh_adapters")

    def refresh_adapters(model: str, method: str):
        """model, method -> the picker's choices (runs and checkpoints), the newest finished run picked."""
        runs = list_runs(model, method)
        return gr.update(choices=runs, value=default_adapter(model, method, runs))

    for trigger in (model.change, method.change, refresh.click, demo.load):
        trigger(refresh_adapters, [model, method], [adapter], queue=False)
    return {
        "title": title,
        "lang": lang,
        "model_name_or_path": model,
        "finetuning_type": method,
        "template": template,
        "adapter": adapter,
        "refresh_adapters": refresh,
        "device": device,
    }
