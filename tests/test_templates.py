"""Named templates against the Jinja `chat_template` each model family's tokenizer ships; `auto` on any of them.

The fixtures below are those families' templates as their tokenizer_config.json files carry
them (Qwen2-7B-Instruct, Meta-Llama-3-8B-Instruct, Llama-2-7b-chat-hf,
Mistral-7B-Instruct-v0.2, gemma-7b-it, Phi-3-mini-4k-instruct, glm-4-9b-chat without its
tool-calling branch, and ChatML without a default system prompt), written into small
tokenizer folders made from qllm-tiny's tokenizer with each family's bos/eos tokens.
Nothing is downloaded.
"""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from qllm.data.preprocess import IGNORE_INDEX, encode_supervised
from qllm.data.template import QWEN_CHAT_TEMPLATE, TEMPLATES, TokenizerTemplate, get_template
from qllm.errors import ArgumentError

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' "
    "+ '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
    "messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
    "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
    "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
PHI3 = (
    "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + "
    "'<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)
GLM4 = (
    "[gMASK]<sop>{% for item in messages %}{% if item['role'] == 'system' %}<|system|>\n{{ item['content'] }}"
    "{% elif item['role'] == 'user' %}<|user|>\n{{ item['content'] }}{% elif item['role'] == 'assistant' %}"
    "<|assistant|>\n{{ item['content'] }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
DEFAULT = (
    "{% for message in messages %}{% if message['role'] == 'system' %}{{ 'System: ' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\nAssistant: ' }}"
    "{% else %}{{ message['content'] + eos_token + '\n' }}{% endif %}{% endfor %}"
)
# template name -> (Jinja chat_template, bos token, eos token, supports a system message)
FAMILIES = {
    "qwen": (QWEN_CHAT_TEMPLATE, None, "<|im_end|>", True),
    "chatml": (CHATML, None, "<|im_end|>", True),
    "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>", True),
    "llama2": (LLAMA2, "<s>", "</s>", True),
    "mistral": (MISTRAL, "<s>", "</s>", False),
    "gemma": (GEMMA, "<bos>", "<eos>", False),
    "phi3": (PHI3, "<s>", "<|endoftext|>", True),
    "glm4": (GLM4, None, "<|endoftext|>", True),
    "default": (DEFAULT, None, "<|endoftext|>", True),
}
CONVERSATIONS = {
    "one turn": [{"role": "user", "content": "Convert 7 km to meters."}, {"role": "assistant", "content": "7000"}],
    "two turns": [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Add 2 and 3."},
        {"role": "assistant", "content": "5"},
    ],
}


@pytest.fixture(scope="module")
def family_tokenizers(tmp_path_factory, tiny_tokenizer):
    """One tokenizer folder per family: qllm-tiny's vocabulary with that family's template and special tokens."""
    folders = {}
    for name, (chat_template, bos, eos, _) in FAMILIES.items():
        folder = tmp_path_factory.mktemp(name)
        tiny_tokenizer.save_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        tokenizer.chat_template = chat_template
        tokenizer.add_special_tokens({"eos_token": eos, **({"bos_token": bos} if bos else {})})
        tokenizer.save_pretrained(folder)
        folders[name] = AutoTokenizer.from_pretrained(folder)
    return folders


def jinja(tokenizer, messages, system, generation: bool) -> str:
    messages = ([{"role": "system", "content": system}] if system else []) + messages
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)


def cases():
    for name, (_, _, _, has_system) in FAMILIES.items():
        for label in CONVERSATIONS:
            yield pytest.param(name, label, None, id=f"{name}-{label}")
            if has_system:
                yield pytest.param(name, label, "You are terse.", id=f"{name}-{label}-system")


@pytest.mark.parametrize(("name", "label", "system"), list(cases()))
def test_named_template_renders_what_the_family_template_renders(family_tokenizers, name, label, system):
    tokenizer, template, messages = family_tokenizers[name], TEMPLATES[name], CONVERSATIONS[label]
    pairs = template.format_pairs(messages, system, tokenizer)
    assert "".join(prompt + response for prompt, response in pairs) == jinja(tokenizer, messages, system, False)
    assert template.render_prompt(messages[:-1], system, tokenizer) == jinja(tokenizer, messages[:-1], system, True)
    # each response is exactly the assistant's words and the closing the family puts after them
    for (_, response), answer in zip(pairs, messages[1::2]):
        assert answer["content"] in response and not response.startswith(("<|user|>", "[INST]", "<|im_start|>user"))


@pytest.mark.parametrize(("name", "label", "system"), list(cases()))
def test_auto_splits_every_family_template_as_the_named_one_does(family_tokenizers, name, label, system):
    tokenizer, messages = family_tokenizers[name], CONVERSATIONS[label]
    auto = get_template("auto", tokenizer)
    assert isinstance(auto, TokenizerTemplate)
    named_pairs = TEMPLATES[name].format_pairs(messages, system, tokenizer)
    assert auto.format_pairs(messages, system, tokenizer) == named_pairs
    assert auto.render_prompt(messages[:-1], system, tokenizer) == jinja(tokenizer, messages[:-1], system, True)


@pytest.mark.parametrize("name", ["mistral", "gemma"])
def test_auto_folds_the_system_prompt_into_the_first_message_where_the_family_has_no_system_role(
    family_tokenizers, name
):
    tokenizer, messages = family_tokenizers[name], CONVERSATIONS["one turn"]
    auto_pairs = get_template("auto", tokenizer).format_pairs(messages, "Be brief.", tokenizer)
    assert auto_pairs == TEMPLATES[name].format_pairs(messages, "Be brief.", tokenizer)
    assert "Be brief.\n\nConvert 7 km" in auto_pairs[0][0]


def test_auto_masks_exactly_the_prompt(family_tokenizers):
    tokenizer = family_tokenizers["llama3"]
    messages = CONVERSATIONS["two turns"]
    input_ids, labels = encode_supervised(messages, "", tokenizer, get_template("auto", tokenizer), 1024)
    trained = tokenizer.decode([i for i, label in zip(input_ids, labels) if label != IGNORE_INDEX])
    assert trained == "Hello! How can I help?<|eot_id|>5<|eot_id|>"


def test_auto_stop_words_close_the_assistant_turn(family_tokenizers):
    assert (
        get_template("auto", family_tokenizers["llama3"]).stop_strings(family_tokenizers["llama3"])[0] == "<|eot_id|>"
    )
    assert get_template("auto", family_tokenizers["gemma"]).stop_strings(family_tokenizers["gemma"])[0] == (
        "<end_of_turn>"
    )
    assert get_template("auto", family_tokenizers["qwen"]).stop_strings(family_tokenizers["qwen"])[0] == "<|im_end|>"


def test_a_tokenizer_without_a_chat_template_needs_a_named_one(family_tokenizers):
    tokenizer = family_tokenizers["default"]
    tokenizer.chat_template = None
    with pytest.raises(ArgumentError, match="no chat template; pass the family's, e.g. --template llama3") as caught:
        get_template("auto", tokenizer)
    assert caught.value.field == "template"
