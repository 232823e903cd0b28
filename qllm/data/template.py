"""Chat templates: how a conversation becomes token ids, with the prompt/response boundary kept.

Training needs the boundary (prompt tokens are masked with -100), so a template is a set
of format strings applied turn by turn rather than one Jinja string.  The `qwen`
template renders exactly what the tokenizer's own ChatML `chat_template` renders;
tests check that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from qllm.errors import ArgumentError

Message = dict[str, str]  # {"role": "user"|"assistant", "content": str}


@dataclass(frozen=True)
class Template:
    name: str
    system_format: str  # "{content}" is replaced by the system prompt
    user_format: str  # ends where the model starts writing
    assistant_format: str  # "{eos}" is replaced by the tokenizer's eos token
    default_system: str
    stop_words: tuple[str, ...]  # generation stops at any of these ("{eos}" allowed)

    def _system(self, system: str | None) -> str:
        content = self.default_system if system is None else system
        return self.system_format.format(content=content) if content else ""

    def format_pairs(self, messages: list[Message], system: str | None, eos: str) -> list[tuple[str, str]]:
        """(prompt text, response text) per user/assistant turn; the system prompt opens the first."""
        if len(messages) % 2 or any(m["role"] != ("user", "assistant")[i % 2] for i, m in enumerate(messages)):
            raise ValueError("messages must alternate user/assistant and end with an assistant turn")
        pairs = []
        for index in range(0, len(messages), 2):
            prompt = (self._system(system) if index == 0 else "") + self.user_format.format(
                content=messages[index]["content"]
            )
            response = self.assistant_format.format(content=messages[index + 1]["content"], eos=eos)
            pairs.append((prompt, response))
        return pairs

    def render_prompt(self, messages: list[Message], system: str | None, eos: str) -> str:
        """The text a model continues to answer the last user message (history included)."""
        if not messages or messages[-1]["role"] != "user":
            raise ValueError("the last message must come from the user")
        pairs = self.format_pairs(messages[:-1], system, eos)
        history = "".join(prompt + response for prompt, response in pairs)
        opening = self._system(system) if not pairs else ""
        return history + opening + self.user_format.format(content=messages[-1]["content"])

    def stop_strings(self, eos: str) -> list[str]:
        return [word.format(eos=eos) for word in self.stop_words]

    def stop_token_ids(self, tokenizer) -> list[int]:
        """Ids of the stop words that are single tokens (all of them for the built-in templates)."""
        ids = [tokenizer.convert_tokens_to_ids(word) for word in self.stop_strings(tokenizer.eos_token)]
        return [i for i in ids if i is not None and i != tokenizer.unk_token_id] + [tokenizer.eos_token_id]


TEMPLATES: dict[str, Template] = {
    "qwen": Template(
        name="qwen",
        system_format="<|im_start|>system\n{content}<|im_end|>\n",
        user_format="<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n",
        assistant_format="{content}<|im_end|>\n",
        default_system="You are a helpful assistant.",
        stop_words=("<|im_end|>",),
    ),
    "default": Template(
        name="default",
        system_format="System: {content}\n",
        user_format="Human: {content}\nAssistant: ",
        assistant_format="{content}{eos}\n",
        default_system="",
        stop_words=("{eos}",),
    ),
}

# The Jinja twin of the `qwen` template, stored in the tokenizer of `qllm-tiny`.
QWEN_CHAT_TEMPLATE = (
    r"{%- for message in messages %}"
    r"{%- if loop.first and message['role'] != 'system' %}"
    r"{{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}"
    r"{%- endif %}"
    r"{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    r"{%- endfor %}"
    r"{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)


def get_template(name: str | None, tokenizer=None) -> Template:
    """The named template; with no name, `qwen` for ChatML tokenizers and `default` otherwise."""
    if name is None:
        chat_template = getattr(tokenizer, "chat_template", None) or ""
        return TEMPLATES["qwen" if "<|im_start|>" in chat_template else "default"]
    if name not in TEMPLATES:
        raise ArgumentError("template", f"unknown template '{name}'; choose one of {', '.join(TEMPLATES)}")
    return TEMPLATES[name]
