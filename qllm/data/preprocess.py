"""Standard examples -> token ids and labels.

Supervised: every turn is encoded as prompt ids + response ids, prompt labels are -100,
so the loss is taken on what the assistant says (the closing stop token included, which
teaches the model to stop).  Pre-training: texts are joined with the eos token and cut
into blocks of `cutoff_len`, every token a label.
"""

from __future__ import annotations

from typing import Any

from qllm.data.template import ChatTemplate

IGNORE_INDEX = -100


def encode_supervised(
    messages: list[dict[str, str]], system: str, tokenizer, template: ChatTemplate, cutoff_len: int
) -> tuple[list[int], list[int]]:
    """(input_ids, labels) of one conversation, cut to `cutoff_len` tokens."""
    input_ids: list[int] = []
    labels: list[int] = []
    for prompt, response in template.format_pairs(messages, system or None, tokenizer):
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        response_ids = tokenizer.encode(response, add_special_tokens=False)
        input_ids += prompt_ids + response_ids
        labels += [IGNORE_INDEX] * len(prompt_ids) + response_ids
    return input_ids[:cutoff_len], labels[:cutoff_len]


def supervised_batch(
    batch: dict[str, list[Any]], tokenizer, template: ChatTemplate, cutoff_len: int
) -> dict[str, list]:
    out: dict[str, list] = {"input_ids": [], "attention_mask": [], "labels": []}
    for messages, system in zip(batch["_messages"], batch["_system"]):
        input_ids, labels = encode_supervised(messages, system, tokenizer, template, cutoff_len)
        if all(label == IGNORE_INDEX for label in labels):  # the response was cut off entirely
            continue
        out["input_ids"].append(input_ids)
        out["attention_mask"].append([1] * len(input_ids))
        out["labels"].append(labels)
    return out


def pretraining_batch(batch: dict[str, list[Any]], tokenizer, cutoff_len: int) -> dict[str, list]:
    ids: list[int] = []
    for text in batch["_text"]:
        ids += tokenizer.encode(text, add_special_tokens=False) + [tokenizer.eos_token_id]
    blocks = [ids[start : start + cutoff_len] for start in range(0, len(ids), cutoff_len)]
    return {"input_ids": blocks, "attention_mask": [[1] * len(b) for b in blocks], "labels": [list(b) for b in blocks]}


def supervised_collator(tokenizer, pad_to_multiple_of: int | None = 8):
    """Pads a batch's ids with the pad token and its labels with IGNORE_INDEX: one batching for training
    and for every later loss evaluation of the same examples, so their losses compare exactly."""
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=IGNORE_INDEX, pad_to_multiple_of=pad_to_multiple_of)
