"""Multiple-choice benchmark files: `<task_dir>/<task>/mapping.json` and per-subject CSVs.

`<task>/{dev,val,test}/<subject>.csv` (or `<subject>_<split>.csv`), columns question, A,
B, C, D, answer, with or without a header row — the layout LLaMA-Factory used, so real
MMLU / CMMLU / C-Eval files dropped into `task_dir` are read as they are.  When
`task_dir` has no folder for mmlu / cmmlu / ceval, the public set is converted into one
(`public_benchmarks`); the bundled sample is scored only when asked for (`mmlu_sample`).
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from qllm.errors import ArgumentError
from qllm.eval.public_benchmarks import PUBLIC_BENCHMARKS, fetch_public_benchmark
from qllm.paths import SAMPLE_BENCHMARK_DIR

logger = logging.getLogger(__name__)

CHOICES = ("A", "B", "C", "D")
SAMPLE_SUFFIX = "_sample"  # mmlu_sample, ...: the bundled sample of that benchmark
CATEGORIES = ("STEM", "Social Sciences", "Humanities", "Other")


@dataclass(frozen=True)
class Question:
    question: str
    options: tuple[str, str, str, str]
    answer: str  # one of CHOICES


@dataclass(frozen=True)
class Subject:
    key: str
    name: str
    category: str


def resolve_task_dir(task: str, task_dir: str) -> Path:
    """The folder of ``task``: under task_dir; for mmlu / cmmlu / ceval converted from the hub on first use;
    for `<name>_sample` the bundled sample."""
    folder = Path(task_dir) / task
    if (folder / "mapping.json").is_file():
        return folder
    sample = SAMPLE_BENCHMARK_DIR / task.removesuffix(SAMPLE_SUFFIX)
    if task.endswith(SAMPLE_SUFFIX) and (sample / "mapping.json").is_file():
        return sample
    if task in PUBLIC_BENCHMARKS:
        return fetch_public_benchmark(task, Path(task_dir))
    present = (
        sorted(p.name for p in Path(task_dir).iterdir() if (p / "mapping.json").is_file())
        if Path(task_dir).is_dir()
        else []
    )
    raise ArgumentError(
        "task",
        f"no benchmark '{task}' under {task_dir} (found: {', '.join(present) or 'none'}); "
        "tasks are folders with mapping.json, or a dataset name from dataset_info.json",
    )


def read_subjects(folder: Path) -> list[Subject]:
    path = folder / "mapping.json"
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ArgumentError(
            "task", f"{path} is not valid JSON: line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    return [Subject(key, value.get("name", key), value.get("category", "Other")) for key, value in mapping.items()]


def _subject_file(folder: Path, split: str, subject: str) -> Path:
    for candidate in (folder / split / f"{subject}.csv", folder / split / f"{subject}_{split}.csv"):
        if candidate.is_file():
            return candidate
    hint = (
        "; C-Eval's test answers are not public: use --split val" if split == "test" and "ceval" in folder.name else ""
    )
    raise ArgumentError("split", f"no {split} file for subject '{subject}' in {folder / split}{hint}")


def read_questions(folder: Path, split: str, subject: str) -> list[Question]:
    """All questions of one subject and split; a malformed row names its file and row."""
    path = _subject_file(folder, split, subject)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    numbered = list(enumerate(rows, start=1))
    if rows and [cell.strip().lower() for cell in rows[0][-6:]] == ["question", "a", "b", "c", "d", "answer"]:
        numbered = numbered[1:]  # the header row
    questions = []
    for number, row in numbered:
        cells = row[-6:]  # C-Eval and CMMLU files have a leading id column
        if len(row) < 6 or cells[5].strip().upper() not in CHOICES:
            raise ArgumentError(
                "task_dir", f"{path} row {number}: expected question,A,B,C,D,answer with answer A-D, got {row}"
            )
        questions.append(Question(cells[0], tuple(cells[1:5]), cells[5].strip().upper()))
    return questions
