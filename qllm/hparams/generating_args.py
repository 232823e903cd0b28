from __future__ import annotations

import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

MAX_NEW_TOKENS_CAP = 8192


@dataclass
class GeneratingArguments:
    """Sampling settings of `qllm chat` (and the board's Chat tab)."""

    max_new_tokens: int = field(
        default=512, metadata={"help": f"Tokens to generate at most (capped at {MAX_NEW_TOKENS_CAP})."}
    )
    temperature: float = field(default=0.7, metadata={"help": "0 for greedy decoding."})
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling mass."})
    repetition_penalty: float = field(default=1.0, metadata={"help": "1.0 for none."})
    system: str | None = field(default=None, metadata={"help": "System prompt (default: the template's)."})

    def __post_init__(self) -> None:
        from qllm.errors import ArgumentError

        if self.max_new_tokens <= 0:
            raise ArgumentError(
                "max_new_tokens", f"must be positive (got {self.max_new_tokens}); e.g. --max_new_tokens 512"
            )
        if self.max_new_tokens > MAX_NEW_TOKENS_CAP:
            logger.warning("warning: --max_new_tokens %d capped at %d", self.max_new_tokens, MAX_NEW_TOKENS_CAP)
            self.max_new_tokens = MAX_NEW_TOKENS_CAP
        if self.temperature < 0:
            raise ArgumentError("temperature", f"must be 0 or more (got {self.temperature})")
        if not 0 < self.top_p <= 1:
            raise ArgumentError("top_p", f"must be in (0, 1] (got {self.top_p})")

    def generate_kwargs(self) -> dict:
        sample = self.temperature > 0
        kwargs = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": sample,
            "repetition_penalty": self.repetition_penalty,
        }
        if sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        return kwargs
