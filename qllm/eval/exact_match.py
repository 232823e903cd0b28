"""Exact-match accuracy and eval loss of a model on a registered dataset's split.

Generation is greedy and batched (left padding), prompts rendered with the template,
stopped at the template's stop tokens; an answer counts when it equals the reference
after stripping surrounding whitespace.  The loss is the mean cross-entropy over the
response tokens, computed from the same tokenization training uses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from tqdm import tqdm

from qllm.constants import SCORING
from qllm.data.pipeline import load_standard, load_tokenized
from qllm.data.preprocess import IGNORE_INDEX, supervised_collator
from qllm.data.template import ChatTemplate
from qllm.hparams.data_args import DataArguments

logger = logging.getLogger(__name__)


@dataclass
class ExactMatchResult:
    accuracy: float
    eval_loss: float
    total: int
    samples: list[dict[str, str]]  # a few (prompt, reference, prediction) for a reader


@torch.no_grad()
def generate_answers(
    model, tokenizer, template: ChatTemplate, rows: list[dict], batch_size: int, max_new_tokens: int
) -> list[str]:
    stop_ids = template.stop_token_ids(tokenizer)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    answers: list[str] = []
    try:
        for start in tqdm(range(0, len(rows), batch_size), desc=f"{SCORING} answers"):
            batch = rows[start : start + batch_size]
            prompts = [template.render_prompt(r["_messages"][:-1], r["_system"] or None, tokenizer) for r in batch]
            inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            output = model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=stop_ids,
                pad_token_id=tokenizer.pad_token_id,
            )
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            answers += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return answers


@torch.no_grad()
def response_loss(
    model, tokenizer, data_args: DataArguments, template: ChatTemplate, split: str, batch_size: int
) -> float:
    examples = load_tokenized(data_args, "sft", tokenizer, template, seed=0, split=split)["train"]
    collate = supervised_collator(tokenizer, pad_to_multiple_of=None)
    total_loss, total_tokens = 0.0, 0
    for start in range(0, len(examples), batch_size):
        batch = collate([examples[i] for i in range(start, min(start + batch_size, len(examples)))])
        batch = {k: v.to(model.device) for k, v in batch.items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
        labels = batch["labels"][:, 1:]
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
        )
        total_loss += loss.item()
        total_tokens += int((labels != IGNORE_INDEX).sum())
    return total_loss / max(total_tokens, 1)


def evaluate_exact_match(
    model,
    tokenizer,
    template: ChatTemplate,
    data_args: DataArguments,
    split: str = "test",
    batch_size: int = 16,
    max_new_tokens: int = 32,
) -> ExactMatchResult:
    rows = list(load_standard(data_args, "sft", split))
    answers = generate_answers(model, tokenizer, template, rows, batch_size, max_new_tokens)
    references = [r["_messages"][-1]["content"] for r in rows]
    hits = [a.strip() == ref.strip() for a, ref in zip(answers, references)]
    samples = [
        {"prompt": r["_messages"][-2]["content"], "reference": ref, "prediction": a.strip()}
        for r, ref, a in list(zip(rows, references, answers))[:5]
    ]
    loss = response_loss(model, tokenizer, data_args, template, split, batch_size)
    return ExactMatchResult(accuracy=sum(hits) / len(hits), eval_loss=loss, total=len(hits), samples=samples)
