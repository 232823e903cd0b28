"""Multiple-choice scoring in the style of MMLU / CMMLU / C-Eval.

Each question is asked after `n_shot` solved examples from the dev split, as a chat in
the model's template (examples as earlier turns); the model's next-token logits for the
letters A-D decide its answer.  Accuracy is reported per subject, per category (STEM,
Social Sciences, Humanities, Other) and on average over all questions.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from qllm.constants import SCORING
from qllm.data.template import ChatTemplate
from qllm.eval.public_benchmarks import describe_source
from qllm.eval.tasks import (
    CATEGORIES,
    CHOICES,
    Question,
    Subject,
    read_questions,
    read_subjects,
    resolve_task_dir,
)

PROMPTS = {
    "en": ("The following are multiple choice questions (with answers) about {subject}.\n\n", "Answer:"),
    "zh": ("以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。\n\n", "答案："),
}

logger = logging.getLogger(__name__)


@dataclass
class ChoiceResult:
    task: str
    split: str
    data: str  # where the questions came from (describe_source)
    subjects: dict[str, dict] = field(default_factory=dict)  # display name -> {category, correct, total, accuracy}
    categories: dict[str, float] = field(default_factory=dict)  # category and "Average" -> accuracy in %
    fewer_shots: dict[str, int] = field(default_factory=dict)  # subject key -> solved examples, where < n_shot

    def table(self) -> str:
        lines = [f"{self.task} ({self.split}) · {self.data}", f"{'category':<18}{'accuracy':>10}"]
        lines += [f"{name:<18}{value:>10.2f}" for name, value in self.categories.items()]
        if self.fewer_shots:
            lines.append(f"{len(self.fewer_shots)} subjects had fewer solved examples than --n_shot")
        return "\n".join(lines)


def format_question(question: Question, lang: str, answered: bool) -> tuple[str, str]:
    """(user text, assistant text) of one question."""
    options = "\n".join(f"{letter}. {text}" for letter, text in zip(CHOICES, question.options))
    return f"{question.question}\n{options}\n{PROMPTS[lang][1]}", question.answer if answered else ""


def build_prompt(
    template: ChatTemplate, tokenizer, subject: str, shots: list[Question], question: Question, lang: str
) -> str:
    messages = []
    for shot in shots:
        user, assistant = format_question(shot, lang, answered=True)
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    messages.append({"role": "user", "content": format_question(question, lang, answered=False)[0]})
    messages[0]["content"] = PROMPTS[lang][0].format(subject=subject) + messages[0]["content"]
    return template.render_prompt(messages, None, tokenizer)


def letter_token_ids(tokenizer) -> list[int]:
    return [tokenizer.encode(letter, add_special_tokens=False)[-1] for letter in CHOICES]


@torch.no_grad()
def predict_letters(model, tokenizer, prompts: list[str], batch_size: int) -> list[str]:
    """The letter among A-D with the highest next-token logit after each prompt."""
    letters = letter_token_ids(tokenizer)
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    try:
        predictions = []
        for start in range(0, len(prompts), batch_size):
            batch = tokenizer(
                prompts[start : start + batch_size], return_tensors="pt", padding=True, add_special_tokens=False
            )
            logits = model(**batch.to(model.device)).logits[:, -1, letters]
            predictions += [CHOICES[i] for i in logits.argmax(dim=-1).tolist()]
        return predictions
    finally:
        tokenizer.padding_side = side


def evaluate_choice(
    model,
    tokenizer,
    template: ChatTemplate,
    task: str,
    task_dir: str,
    split: str,
    n_shot: int,
    lang: str,
    batch_size: int,
) -> ChoiceResult:
    folder = resolve_task_dir(task, task_dir)
    subjects: list[Subject] = read_subjects(folder)
    result = ChoiceResult(task=task, split=split, data=describe_source(folder))
    category_hits: dict[str, list[bool]] = defaultdict(list)
    solved = {
        subject.key: read_questions(folder, "dev", subject.key)[:n_shot] if n_shot else [] for subject in subjects
    }
    short = {key: len(shots) for key, shots in solved.items() if len(shots) < n_shot}
    if short:  # said once per run, and kept in the results: the score is not an n_shot score for these subjects
        result.fewer_shots = short
        logger.warning(
            "--n_shot %d: %d of %d subjects have fewer solved examples in their dev split (%s); "
            "their questions are asked after all they have",
            n_shot,
            len(short),
            len(subjects),
            ", ".join(f"{key} {count}" for key, count in list(short.items())[:5]) + (", ..." if len(short) > 5 else ""),
        )
    for subject in tqdm(subjects, desc=f"{SCORING} {task} subjects"):
        shots = solved[subject.key]
        questions = read_questions(folder, split, subject.key)
        prompts = [build_prompt(template, tokenizer, subject.name, shots, q, lang) for q in questions]
        predictions = predict_letters(model, tokenizer, prompts, batch_size)
        hits = [p == q.answer for p, q in zip(predictions, questions)]
        result.subjects[subject.name] = {
            "category": subject.category,
            "correct": sum(hits),
            "total": len(hits),
            "accuracy": 100 * sum(hits) / max(len(hits), 1),
        }
        category_hits[subject.category] += hits
        category_hits["Average"] += hits
    for name in (*CATEGORIES, "Average"):
        if category_hits[name]:
            result.categories[name] = 100 * sum(category_hits[name]) / len(category_hits[name])
    return result
