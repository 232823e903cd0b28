"""The board's one in-process chat model: loaded on demand, replaced cleanly, unloaded on request.

Chat runs in the board's process (streaming needs the model at hand); training and
evaluation never do.  qllm's ChatModel is imported when a model is first loaded.
"""

from __future__ import annotations

import threading
from typing import Any


def message_text(content: Any) -> str:
    """The plain text of one message as gradio 6's Chatbot hands it back.

    Its history holds each message's content as a list of parts (`{"type": "text", "text": ...}`,
    files, components); a message the board just wrote may still be a plain string.  The model
    reads text: the text parts, joined.
    """
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list | tuple) else [content]
    texts = [part.get("text", "") for part in parts if isinstance(part, dict) and part.get("type", "text") == "text"]
    return "".join(texts)


def conversation(history: list[dict[str, Any]], message: str) -> list[dict[str, str]]:
    """The chatbot's history and the new message as the model's alternating turns, plain text."""
    turns = [{"role": turn["role"], "content": message_text(turn["content"])} for turn in history or []]
    return [*turns, {"role": "user", "content": message or ""}]


class ChatSession:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.model = None  # qllm.chat.chat_model.ChatModel
        self.stop = threading.Event()

    def load(self, args: dict[str, Any]) -> str:
        from qllm.chat.chat_model import ChatModel

        ChatModel.check(args)  # a refused load leaves the loaded model as it was
        with self._lock:
            self.unload()
            self.model = ChatModel(args)
            return self.model.description

    def unload(self) -> None:
        if self.model is not None:
            self.model.unload()
            self.model = None

    def stream(self, messages: list[dict[str, str]], system: str, **settings: Any):
        if self.model is None:
            raise RuntimeError("no model loaded")
        self.stop = threading.Event()
        yield from self.model.stream(messages, system=system or None, stop=self.stop, **settings)
