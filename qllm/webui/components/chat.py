"""The Chat tab's layout and wiring; what its buttons do is in `qllm.webui.handlers.chat`."""

from __future__ import annotations

from functools import partial

import gradio as gr

from qllm.webui.chat_session import ChatSession
from qllm.webui.handlers import chat as handlers
from qllm.webui.wiring import Elements, connect


def _layout(el: Elements) -> None:
    with gr.Row():
        el["load_model"] = gr.Button(variant="primary", elem_id="load_model")
        el["unload_model"] = gr.Button(elem_id="unload_model")
    el["chat_status"] = gr.Markdown(elem_id="chat_status")
    with gr.Row():
        with gr.Column(scale=3):
            el["chatbot"] = gr.Chatbot(height=380, elem_id="chatbot")
            el["message"] = gr.Textbox(lines=1, elem_id="message")
            with gr.Row():
                el["send"] = gr.Button(variant="primary", elem_id="send")
                el["clear"] = gr.Button(elem_id="clear")
        with gr.Column(scale=1):
            el["system"] = gr.Textbox(lines=3, elem_id="system")
            el["max_new_tokens"] = gr.Slider(8, 2048, value=256, step=8, elem_id="max_new_tokens")
            el["temperature"] = gr.Slider(0, 1.5, value=0.7, step=0.05, elem_id="temperature")
            el["top_p"] = gr.Slider(0.05, 1.0, value=0.9, step=0.05, elem_id="top_p")
            el["chat_shots"] = gr.Number(value=0, precision=0, minimum=0, elem_id="chat_shots")
            el["chat_noise"] = gr.Textbox(value="0", elem_id="chat_noise")


def create_chat_tab(demo: gr.Blocks, top: Elements, session: ChatSession, kept: gr.BrowserState) -> Elements:
    el: Elements = {**top, "kept_chat": kept}
    _layout(el)
    top_bar = ["lang", "model_name_or_path", "finetuning_type", "template", "adapter"]
    loading = [*top_bar, "chat_shots", "chat_noise", "quantization_bit"]
    connect(el["load_model"].click, partial(handlers.load, session), el, loading, ["chat_status"])
    connect(el["unload_model"].click, partial(handlers.unload, session), el, ["lang"], ["chat_status"])
    for event in (el["send"].click, el["message"].submit):
        reply = ["chatbot", "message", "chat_status"]
        connect(event, partial(handlers.send, session), el, handlers.SEND_INPUTS, reply)
    # the conversation is kept in the browser: a reload shows it again, and it goes on with the loaded model
    el["chatbot"].change(lambda history: history, [el["chatbot"]], [kept], queue=False)
    page = partial(handlers.page_load, session)
    connect(demo.load, page, el, ["lang", "kept_chat"], ["chatbot", "chat_status"], queue=False)
    connect(el["lang"].change, partial(handlers.language, session), el, ["lang"], ["chat_status"], queue=False)
    el["clear"].click(lambda: [], None, [el["chatbot"]], queue=False)
    return {key: component for key, component in el.items() if key not in top and key != "kept_chat"}
