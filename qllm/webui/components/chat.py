"""The Chat tab: load the top bar's model + adapter in the board's process and chat, streaming."""

from __future__ import annotations

import gradio as gr

from qllm.errors import ArgumentError
from qllm.webui.chat_session import ChatSession, conversation
from qllm.webui.control import run_folder
from qllm.webui.locales import LANGUAGES, text


def create_chat_tab(
    demo: gr.Blocks, top: dict, session: ChatSession, kept: gr.BrowserState
) -> dict[str, gr.components.Component]:
    with gr.Row():
        load = gr.Button(variant="primary", elem_id="load_model")
        unload = gr.Button(elem_id="unload_model")
    status = gr.Markdown(elem_id="chat_status")
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(height=380, elem_id="chatbot")
            message = gr.Textbox(lines=1, elem_id="message")
            with gr.Row():
                send = gr.Button(variant="primary", elem_id="send")
                clear = gr.Button(elem_id="clear")
        with gr.Column(scale=1):
            system = gr.Textbox(lines=3, elem_id="system")
            max_new_tokens = gr.Slider(8, 2048, value=256, step=8, elem_id="max_new_tokens")
            temperature = gr.Slider(0, 1.5, value=0.7, step=0.05, elem_id="temperature")
            top_p = gr.Slider(0.05, 1.0, value=0.9, step=0.05, elem_id="top_p")

    model, method, template, adapter, lang = (
        top[k] for k in ("model_name_or_path", "finetuning_type", "template", "adapter", "lang")
    )

    def on_load(lang_name, model_name, method_name, template_name, adapter_name):
        """top bar -> the model (+ adapter) loaded in place of any earlier one, and a status line."""
        code = LANGUAGES[lang_name]
        args = {"model_name_or_path": model_name, "template": template_name, "finetuning_type": method_name}
        try:
            if adapter_name:
                args["adapter_name_or_path"] = str(run_folder(model_name, method_name, adapter_name))
        except ArgumentError as err:
            yield f"⚠ {err}"
            return
        yield f"{text('loading', code)} {model_name} {adapter_name or ''}…"
        try:
            description = session.load(args)
        except ArgumentError as err:
            yield f"⚠ {err}"
            return
        yield f"**{text('loaded', code)}**: {description}"

    load.click(on_load, [lang, model, method, template, adapter], [status])

    def on_unload(lang_name):
        session.unload()
        return text("unloaded", LANGUAGES[lang_name])

    unload.click(on_unload, [lang], [status])

    def on_send(lang_name, history, text_in, system_prompt, new_tokens, temp, nucleus):
        """history + message -> history with the reply streamed in, piece by piece."""
        code = LANGUAGES[lang_name]
        history = list(history or [])
        if session.model is None:
            yield history, text_in, text("no_model", code)
            return
        # the status line says what is loaded again: a warning about an earlier message is stale now
        loaded = f"**{text('loaded', code)}**: {session.model.description}"
        replied = history + [{"role": "user", "content": text_in}, {"role": "assistant", "content": ""}]
        try:
            for piece in session.stream(
                conversation(history, text_in),
                system_prompt,
                max_new_tokens=int(new_tokens),
                temperature=float(temp),
                top_p=float(nucleus),
            ):
                replied[-1]["content"] += piece
                yield replied, "", loaded
        except ArgumentError as err:  # an empty message or a bad setting: the conversation stays as it was
            yield history, text_in, f"⚠ {err}"
            return
        if not replied[-1]["content"].strip():  # the model's first token was its stop token
            yield replied, "", f"{loaded} · {text('empty_reply', code)}"

    for trigger in (send.click, message.submit):
        trigger(
            on_send, [lang, chatbot, message, system, max_new_tokens, temperature, top_p], [chatbot, message, status]
        )
    # the conversation is kept in the browser: a reload shows it again, and it goes on with the loaded model
    chatbot.change(lambda history: history, [chatbot], [kept], queue=False)

    def on_page_load(lang_name, history):
        loaded = session.model
        line = f"**{text('loaded', LANGUAGES[lang_name])}**: {loaded.description}" if loaded else ""
        return history or [], line

    demo.load(on_page_load, [lang, kept], [chatbot, status], queue=False)

    def on_language(lang_name):
        """language -> the status line in it (what is loaded, or nothing loaded yet)."""
        loaded = session.model
        return f"**{text('loaded', LANGUAGES[lang_name])}**: {loaded.description}" if loaded else ""

    lang.change(on_language, [lang], [status], queue=False)
    clear.click(lambda: [], None, [chatbot], queue=False)
    return {
        "load_model": load,
        "unload_model": unload,
        "chatbot": chatbot,
        "message": message,
        "send": send,
        "clear": clear,
        "system": system,
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "top_p": top_p,
        "chat_status": status,
    }
