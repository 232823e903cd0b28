"""What the Chat tab does: load the top bar's model + adapter in the board's process, and chat, streaming.

Handlers take the values of their inputs and return (or, streaming, yield) ``{element name: update}``;
`qllm.webui.components.chat` wires them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from qllm.errors import ArgumentError
from qllm.webui.chat_session import ChatSession, conversation
from qllm.webui.locales import LANGUAGES, text
from qllm.webui.saves import run_folder
from qllm.webui.train_form import quantization_bit
from qllm.webui.wiring import Updates

SEND_INPUTS = ("lang", "chatbot", "message", "system", "max_new_tokens", "temperature", "top_p")


def loaded_line(session: ChatSession, lang_name: str) -> str:
    """The status line: what is loaded, in the page's language ("" before anything is)."""
    loaded = session.model
    return f"**{text('loaded', LANGUAGES[lang_name])}**: {loaded.description}" if loaded else ""


def load(
    session: ChatSession,
    lang_name: str,
    model: str,
    method: str,
    template: str,
    adapter: str | None,
    shots: float | None = 0,
    noise: str = "0",
    quantization: str | None = "none",
) -> Iterator[Updates]:
    """top bar -> the model (+ adapter) loaded in place of any earlier one, and a status line; a vqc / tq
    adapter's circuits read from ``shots`` shots on a device with ``noise`` when set; the base in 8 or 4
    bits when the top bar's Quantization says so."""
    args = {"model_name_or_path": model, "template": template, "finetuning_type": method}
    if quantization_bit(quantization) is not None:
        args["quantization_bit"] = quantization_bit(quantization)
    if shots:
        args["shots"] = int(shots)
    if noise and noise.strip() not in ("", "0"):
        args["noise"] = noise
    try:
        if adapter:
            args["adapter_name_or_path"] = str(run_folder(model, method, adapter))
        yield {"chat_status": f"{text('loading', LANGUAGES[lang_name])} {model} {adapter or ''}…"}
        session.load(args)
    except ArgumentError as err:  # refused before anything was unloaded: say what is still loaded
        still = loaded_line(session, lang_name)
        yield {"chat_status": f"⚠ {err}" + (f"\n\n{still}" if still else "")}
        return
    yield {"chat_status": loaded_line(session, lang_name)}


def unload(session: ChatSession, lang_name: str) -> Updates:
    session.unload()
    return {"chat_status": text("unloaded", LANGUAGES[lang_name])}


def send(
    session: ChatSession,
    lang_name: str,
    history: list[dict[str, Any]] | None,
    message: str,
    system: str,
    max_new_tokens: float,
    temperature: float,
    top_p: float,
) -> Iterator[Updates]:
    """history + message -> history with the reply streamed in, piece by piece."""
    code = LANGUAGES[lang_name]
    history = list(history or [])
    if session.model is None:
        yield {"chat_status": text("no_model", code)}
        return
    # the status line says what is loaded again: a warning about an earlier message is stale now
    loaded = loaded_line(session, lang_name)
    replied = history + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    try:
        for piece in session.stream(
            conversation(history, message),
            system,
            max_new_tokens=int(max_new_tokens),
            temperature=float(temperature),
            top_p=float(top_p),
        ):
            replied[-1]["content"] += piece
            yield {"chatbot": replied, "message": "", "chat_status": loaded}
    except ArgumentError as err:  # an empty message or a bad setting: the conversation stays as it was
        yield {"chatbot": history, "message": message, "chat_status": f"⚠ {err}"}
        return
    if not replied[-1]["content"].strip():  # the model's first token was its stop token
        yield {"chatbot": replied, "message": "", "chat_status": f"{loaded} · {text('empty_reply', code)}"}


def page_load(session: ChatSession, lang_name: str, kept: list | None) -> Updates:
    """page load -> the conversation the browser kept, and what is loaded (it goes on with that model)."""
    return {"chatbot": kept or [], "chat_status": loaded_line(session, lang_name)}


def language(session: ChatSession, lang_name: str) -> Updates:
    """language -> the status line in it."""
    return {"chat_status": loaded_line(session, lang_name)}
