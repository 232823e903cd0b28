"""The top bar shared by all tabs: language, model, method, template, quantization, adapter, device.

What its picker does is in `qllm.webui.handlers.top`.
"""

from __future__ import annotations

import gradio as gr

from qllm.data.template import TEMPLATE_CHOICES
from qllm.methods import METHODS
from qllm.webui.catalog import MODELS
from qllm.webui.handlers.top import adapter_choices
from qllm.webui.locales import LANGUAGES
from qllm.webui.saves import list_runs
from qllm.webui.train_form import QUANTIZATION_CHOICES
from qllm.webui.wiring import Elements, connect


def create_top(demo: gr.Blocks) -> Elements:
    el: Elements = {}
    with gr.Row(equal_height=True, elem_id="title_row"):
        el["title"] = gr.Markdown(elem_id="title", scale=4)
        el["lang"] = gr.Dropdown(list(LANGUAGES), value="English", scale=1, min_width=120, elem_id="lang")
        el["device"] = gr.Textbox(interactive=False, scale=1, min_width=200, elem_id="device")
    with gr.Row(equal_height=True):
        el["model_name_or_path"] = gr.Dropdown(
            MODELS, value=MODELS[0], allow_custom_value=True, scale=3, elem_id="model_name_or_path"
        )
        el["finetuning_type"] = gr.Dropdown(list(METHODS), value="lora", scale=2, elem_id="finetuning_type")
        el["template"] = gr.Dropdown(list(TEMPLATE_CHOICES), value="auto", scale=1, elem_id="template")
        el["quantization_bit"] = gr.Dropdown(
            list(QUANTIZATION_CHOICES), value="none", scale=1, min_width=110, elem_id="quantization_bit"
        )
        el["adapter"] = gr.Dropdown(
            list_runs(MODELS[0], "lora"), value=None, allow_custom_value=True, scale=3, elem_id="adapter"
        )
        el["refresh_adapters"] = gr.Button(size="sm", scale=0, min_width=80, elem_id="refresh_adapters")
    # set by the Train monitor to the folder of a run that has just finished: the pickers list it at once
    el["finished_run"] = gr.State(None)

    # model, method -> the picker's choices, the newest finished run picked; a language change keeps the pick
    chosen = ["model_name_or_path", "finetuning_type", "lang"]
    for event in (
        el["model_name_or_path"].change,
        el["finetuning_type"].change,
        el["refresh_adapters"].click,
        demo.load,
        el["finished_run"].change,
    ):
        connect(event, adapter_choices, el, chosen, ["adapter"], queue=False)
    connect(el["lang"].change, adapter_choices, el, [*chosen, "adapter"], ["adapter"], queue=False)
    return el
