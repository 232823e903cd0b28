"""The board's one in-process chat model: loaded on demand, replaced cleanly, unloaded on request.

Chat runs in the board's process (streaming needs the model at hand); training and
evaluation never do.  qllm's ChatModel is imported when a model is first loaded.
"""

from __future__ import annotations

import threading
from typing import Any


class ChatSession:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.model = None  # qllm.chat.chat_model.ChatModel
        self.stop = threading.Event()

    def load(self, args: dict[str, Any]) -> str:
        from qllm.chat.chat_model import ChatModel

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
