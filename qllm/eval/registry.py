"""What `qllm eval` can score, one `Task` record each: the board's task list, the CLI's `--task` and the scorer.

A new benchmark is one record in `BENCHMARK_TASKS` (plus its files or its hub conversion in
`public_benchmarks`): the Evaluate tab lists it, `qllm eval --task` accepts it and names it in
its errors, and `workflow.run_eval` scores it with the scorer of its `kind`.  Besides the
records, a folder with a `mapping.json` under `--task_dir` is a multiple-choice task of its
own, and a dataset of `dataset_info.json` is scored by exact match on its test split.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from qllm.data.registry import datasets_with_test_split, load_registry
from qllm.errors import ArgumentError
from qllm.eval.tasks import SAMPLE_SUFFIX

TaskKind = Literal["choice", "exact_match"]


@dataclass(frozen=True)
class Task:
    """One evaluation task: how it is scored, where its questions come from, and how the board names it."""

    name: str  # the value of --task
    kind: TaskKind  # "choice": A-D multiple choice, accuracy per category; "exact_match": generated answers
    source: Literal["hub", "sample", "folder", "dataset"]  # hub: converted into task_dir on the first use
    lang: Literal["en", "zh"] = "en"  # the prompt language when --lang is not given (multiple choice)
    label: dict[str, str] = field(default_factory=dict)  # "en" / "zh" -> what the board's task list shows

    def shown(self, lang: str) -> str:
        """The task's line in the board's list: its name, then what it is in ``lang``."""
        described = self.label.get(lang) or self.label.get("en")
        return f"{self.name} · {described}" if described else self.name


def _benchmark(name: str, lang: Literal["en", "zh"], subjects: int, hub_id: str) -> list[Task]:
    """A public benchmark and its bundled sample (a few subjects, to try the board offline)."""
    language = {"en": ("English", "英文"), "zh": ("Chinese", "中文")}[lang]
    title = {"mmlu": "MMLU", "cmmlu": "CMMLU", "ceval": "C-Eval"}[name]
    return [
        Task(
            name,
            "choice",
            "hub",
            lang,
            {
                "en": f"{title}, {subjects} subjects in {language[0]} ({hub_id}; fetched once, then offline)",
                "zh": f"{title}，{subjects} 个{language[1]}科目（{hub_id}；首次使用时下载）",
            },
        ),
        Task(
            f"{name}{SAMPLE_SUFFIX}",
            "choice",
            "sample",
            lang,
            {"en": f"a few {title} questions bundled with the board", "zh": f"内置的少量 {title} 题目"},
        ),
    ]


BENCHMARK_TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        *_benchmark("mmlu", "en", 57, "cais/mmlu"),
        *_benchmark("cmmlu", "zh", 67, "haonan-li/cmmlu"),
        *_benchmark("ceval", "zh", 52, "ceval/ceval-exam"),
    )
}
DATASET_LABEL = {"en": "exact match on the dataset's test split", "zh": "数据集测试集上的完全匹配"}
FOLDER_LABEL = {"en": "multiple choice from task_dir", "zh": "task_dir 中的多项选择题"}


def _folder_tasks(task_dir: str | Path) -> list[Task]:
    """Benchmark folders a person dropped into task_dir (any name with a mapping.json) beyond the records."""
    root = Path(task_dir)
    if not root.is_dir():
        return []
    names = sorted(p.name for p in root.iterdir() if (p / "mapping.json").is_file() and p.name not in BENCHMARK_TASKS)
    # a folder of its own: the language of its questions is not known, Chinese as cmmlu / ceval (--lang en otherwise)
    return [Task(name, "choice", "folder", "zh", FOLDER_LABEL) for name in names]


def list_tasks(task_dir: str | Path, dataset_dir: str | Path) -> list[Task]:
    """Every task there is to choose: the benchmarks, task_dir's own folders, datasets with a test split."""
    datasets = [
        Task(name, "exact_match", "dataset", label=DATASET_LABEL) for name in datasets_with_test_split(dataset_dir)
    ]
    return [*BENCHMARK_TASKS.values(), *_folder_tasks(task_dir), *datasets]


def find_task(name: str, task_dir: str | Path, dataset_dir: str | Path) -> Task:
    """The task ``--task name`` means, or one ArgumentError naming the closest task and where tasks come from."""
    if name in BENCHMARK_TASKS:
        return BENCHMARK_TASKS[name]
    if (Path(task_dir) / name / "mapping.json").is_file():
        return next(task for task in _folder_tasks(task_dir) if task.name == name)
    try:
        if name in load_registry(dataset_dir):  # scored on its test split; a dataset without one is named there
            return Task(name, "exact_match", "dataset", label=DATASET_LABEL)
    except ArgumentError:  # no dataset_info.json there: only benchmarks can be meant
        pass
    known = [task.name for task in list_tasks(task_dir, dataset_dir)]
    closest = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {closest[0]}? " if closest else ""
    raise ArgumentError(
        "task",
        f"no task '{name}'; {hint}choose one of {', '.join(known)} "
        f"(a folder with mapping.json under {task_dir}, or a dataset of {Path(dataset_dir) / 'dataset_info.json'})",
    )
