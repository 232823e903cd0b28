"""Chat templates: how a conversation becomes text, with the prompt/response boundary of every turn kept.

Training masks the prompt tokens (-100), so a template yields (prompt, response) pairs
rather than one string.  Two kinds, one interface:

* `Template`: a named family (`qwen`, `chatml`, `llama3`, `llama2`, `mistral`, `gemma`,
  `phi3`, `glm4`, `default`) as format strings; each renders what that family's own Jinja
  `chat_template` renders (tests check them against the templates the tokenizers ship).
* `TokenizerTemplate` (`--template auto`, the default): the tokenizer's own Jinja template
  through `apply_chat_template`; the boundaries are found by rendering the conversation
  prefix by prefix, so any model that ships a chat template trains with correct masking.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from qllm.errors import ArgumentError

Message = dict[str, str]  # {"role": "user"|"assistant", "content": str}
AUTO = "auto"


def check_alternation(messages: list[Message]) -> None:
    if any(m["role"] != ("user", "assistant")[i % 2] for i, m in enumerate(messages)):
        raise ValueError("messages must alternate user/assistant, starting with the user")


@dataclass(frozen=True)
class Template:
    """A named chat format.  In the format strings `{content}`, `{bos}` and `{eos}` are filled in."""

    name: str
    system_format: str  # the system prompt; opens the conversation, or the first user message (system_in_user)
    user_format: str  # ends where the model starts writing
    assistant_format: str
    default_system: str = ""
    stop_words: tuple[str, ...] = ("{eos}",)  # generation stops at any of these
    prefix: str = ""  # opens the conversation (e.g. "{bos}")
    suffix: str = ""  # closes the last response of a whole conversation (phi3's eos)
    system_in_user: bool = False  # the family has no system role: the system text opens the first user message
    trim: bool = False  # the family's template strips each message's content

    def _fill(self, text: str, tokenizer, content: str = "") -> str:
        return (
            text.replace("{bos}", tokenizer.bos_token or "")
            .replace("{eos}", tokenizer.eos_token or "")
            .replace("{content}", content)
        )

    def _turn_prompt(self, index: int, content: str, system: str | None, tokenizer) -> str:
        """The prompt text of the user turn at ``index`` (the conversation's opening included for the first)."""
        system = self.default_system if system is None else system
        content = content.strip() if self.trim else content
        opening = ""
        if index == 0:
            opening = self._fill(self.prefix, tokenizer)
            if system and self.system_in_user:
                content = self._fill(self.system_format, tokenizer, system) + content
            elif system:
                opening += self._fill(self.system_format, tokenizer, system)
        return opening + self._fill(self.user_format, tokenizer, content)

    def format_pairs(self, messages: list[Message], system: str | None, tokenizer) -> list[tuple[str, str]]:
        """(prompt text, response text) per user/assistant turn of a whole conversation."""
        check_alternation(messages)
        if len(messages) % 2:
            raise ValueError("a conversation to train on ends with an assistant turn")
        pairs = []
        for index in range(0, len(messages), 2):
            answer = messages[index + 1]["content"]
            response = self._fill(self.assistant_format, tokenizer, answer.strip() if self.trim else answer)
            pairs.append((self._turn_prompt(index, messages[index]["content"], system, tokenizer), response))
        if pairs and self.suffix:
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + self._fill(self.suffix, tokenizer))
        return pairs

    def render_prompt(self, messages: list[Message], system: str | None, tokenizer) -> str:
        """The text a model continues to answer the last user message (history included)."""
        if not messages or messages[-1]["role"] != "user":
            raise ValueError("the last message must come from the user")
        check_alternation(messages)
        history = "".join(
            self._turn_prompt(index, messages[index]["content"], system, tokenizer)
            + self._fill(self.assistant_format, tokenizer, messages[index + 1]["content"])
            for index in range(0, len(messages) - 1, 2)
        )
        return history + self._turn_prompt(len(messages) - 1, messages[-1]["content"], system, tokenizer)

    def stop_strings(self, tokenizer) -> list[str]:
        return [self._fill(word, tokenizer) for word in self.stop_words]

    def stop_token_ids(self, tokenizer) -> list[int]:
        """Ids of the stop words that are single tokens, and the eos token."""
        ids = [tokenizer.convert_tokens_to_ids(word) for word in self.stop_strings(tokenizer)]
        return [i for i in ids if i is not None and i != tokenizer.unk_token_id] + [tokenizer.eos_token_id]


@dataclass(frozen=True)
class TokenizerTemplate:
    """The tokenizer's own Jinja chat template, split into turns by rendering prefixes of the conversation."""

    chat_template: str

    @property
    def name(self) -> str:
        return f"{AUTO}-{hashlib.sha1(self.chat_template.encode()).hexdigest()[:8]}"  # cache keys tell templates apart

    def _conversation(self, messages: list[Message], system: str | None, tokenizer) -> list[Message]:
        """With the system prompt as a system message, or folded into the first user message where the
        template has no system role (it raises, as Mistral's and Gemma's do)."""
        if not system:
            return list(messages)
        with_system = [{"role": "system", "content": system}, *messages]
        try:
            self._render(with_system[:2], tokenizer, generation=True)
            return with_system
        except Exception:  # jinja2's TemplateError from raise_exception(...)
            first = {"role": messages[0]["role"], "content": f"{system}\n\n{messages[0]['content']}"}
            return [first, *messages[1:]]

    def _render(self, messages: list[Message], tokenizer, generation: bool) -> str:
        return tokenizer.apply_chat_template(
            messages, chat_template=self.chat_template, tokenize=False, add_generation_prompt=generation
        )

    def format_pairs(self, messages: list[Message], system: str | None, tokenizer) -> list[tuple[str, str]]:
        check_alternation(messages)
        if len(messages) % 2:
            raise ValueError("a conversation to train on ends with an assistant turn")
        conversation = self._conversation(messages, system, tokenizer)
        offset = len(conversation) - len(messages)  # 1 with a system message
        pairs: list[tuple[str, str]] = []
        rendered = ""  # the text of the conversation so far
        for index in range(0, len(messages), 2):
            prompt_text = self._render(conversation[: offset + index + 1], tokenizer, generation=True)
            if not prompt_text.startswith(rendered) and rendered.endswith(tokenizer.eos_token or "\0"):
                # the template closes a whole conversation with eos (Phi-3): not so in the middle of one
                rendered = rendered[: -len(tokenizer.eos_token)]
                pairs[-1] = (pairs[-1][0], pairs[-1][1][: -len(tokenizer.eos_token)])
            whole = self._render(conversation[: offset + index + 2], tokenizer, generation=False)
            if not prompt_text.startswith(rendered) or not whole.startswith(prompt_text):
                raise ArgumentError(
                    "template",
                    "the tokenizer's chat template does not render a conversation turn by turn, so its prompt and "
                    f"response cannot be told apart; pass a named --template ({', '.join(TEMPLATES)})",
                )
            pairs.append((prompt_text[len(rendered) :], whole[len(prompt_text) :]))
            rendered = whole
        return pairs

    def render_prompt(self, messages: list[Message], system: str | None, tokenizer) -> str:
        if not messages or messages[-1]["role"] != "user":
            raise ValueError("the last message must come from the user")
        check_alternation(messages)
        return self._render(self._conversation(messages, system, tokenizer), tokenizer, generation=True)

    def stop_strings(self, tokenizer) -> list[str]:
        """The eos token and whatever closes an assistant turn (`<|im_end|>`, `<|eot_id|>`, ...)."""
        answer = "qllm-probe-answer"
        probe = [{"role": "user", "content": "q"}, {"role": "assistant", "content": answer}]
        response = self.format_pairs(probe, None, tokenizer)[0][1]
        closing = response[response.index(answer) + len(answer) :].split()
        return [word for word in (closing[0] if closing else "", tokenizer.eos_token) if word]

    def stop_token_ids(self, tokenizer) -> list[int]:
        ids = [tokenizer.convert_tokens_to_ids(word) for word in self.stop_strings(tokenizer)]
        return sorted({i for i in ids if i is not None and i != tokenizer.unk_token_id} | {tokenizer.eos_token_id})


CHATML = {
    "system_format": "<|im_start|>system\n{content}<|im_end|>\n",
    "user_format": "<|im_start|>user\n{content}<|im_end|>\n<|im_start|>assistant\n",
    "assistant_format": "{content}<|im_end|>\n",
    "stop_words": ("<|im_end|>",),
}
TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template("qwen", default_system="You are a helpful assistant.", **CHATML),  # Qwen2 / Qwen2.5 (ChatML)
        Template("chatml", **CHATML),
        Template(
            "llama3",
            prefix="{bos}",
            system_format="<|start_header_id|>system<|end_header_id|>\n\n{content}<|eot_id|>",
            user_format="<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            assistant_format="{content}<|eot_id|>",
            stop_words=("<|eot_id|>",),
            trim=True,
        ),
        Template(
            "llama2",
            system_format="<<SYS>>\n{content}\n<</SYS>>\n\n",
            system_in_user=True,
            user_format="{bos}[INST] {content} [/INST]",
            assistant_format=" {content} {eos}",
            trim=True,
        ),
        Template(
            "mistral",
            prefix="{bos}",
            system_format="{content}\n\n",
            system_in_user=True,
            user_format="[INST] {content} [/INST]",
            assistant_format="{content}{eos}",
        ),
        Template(
            "gemma",
            prefix="{bos}",
            system_format="{content}\n\n",
            system_in_user=True,
            user_format="<start_of_turn>user\n{content}<end_of_turn>\n<start_of_turn>model\n",
            assistant_format="{content}<end_of_turn>\n",
            stop_words=("<end_of_turn>",),
            trim=True,
        ),
        Template(
            "phi3",
            system_format="<|system|>\n{content}<|end|>\n",
            user_format="<|user|>\n{content}<|end|>\n<|assistant|>\n",
            assistant_format="{content}<|end|>\n",
            suffix="{eos}",
            stop_words=("<|end|>",),
        ),
        Template(
            "glm4",
            prefix="[gMASK]<sop>",
            system_format="<|system|>\n{content}",
            user_format="<|user|>\n{content}<|assistant|>",
            assistant_format="\n{content}",
            stop_words=("<|user|>", "<|observation|>"),
        ),
        Template(
            "default",
            system_format="System: {content}\n",
            user_format="Human: {content}\nAssistant: ",
            assistant_format="{content}{eos}\n",
        ),
    )
}
TEMPLATE_CHOICES = (AUTO, *TEMPLATES)
ChatTemplate = Template | TokenizerTemplate

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


def get_template(name: str | None, tokenizer=None) -> Template | TokenizerTemplate:
    """A named template, or (`auto`, the default) the tokenizer's own chat template."""
    if name in (None, AUTO):
        chat_template = getattr(tokenizer, "chat_template", None)
        if not isinstance(chat_template, str) or not chat_template:
            raise ArgumentError(
                "template",
                "this model's tokenizer has no chat template; pass the family's, e.g. --template llama3 "
                f"(one of {', '.join(TEMPLATES)})",
            )
        return TokenizerTemplate(chat_template)
    if name not in TEMPLATES:
        raise ArgumentError("template", f"unknown template '{name}'; choose one of {', '.join(TEMPLATE_CHOICES)}")
    return TEMPLATES[name]
