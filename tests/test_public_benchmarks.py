"""MMLU / CMMLU / C-Eval conversion from `datasets`, on small local dataset folders in each set's schema.

Each folder is what `datasets.load_dataset(hub_id, subject)` reads from the hub: one config per
subject (declared in README.md, as the hub repositories do) with the set's own splits and
columns.  The conversion goes through the same `load_dataset` calls; nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qllm.cli import main
from qllm.errors import ArgumentError
from qllm.eval.public_benchmarks import fetch_public_benchmark
from qllm.eval.tasks import read_questions, read_subjects, resolve_task_dir

# task -> {subject: {split: [row, ...]}} in the hub dataset's own schema
SCHEMAS = {
    "mmlu": {
        "abstract_algebra": {
            split: [
                {
                    "question": f"{split}: 2+2?",
                    "subject": "abstract_algebra",
                    "choices": ["3", "4", "5", "6"],
                    "answer": 1,
                }
            ]
            * 2  # fmt: skip
            for split in ("dev", "validation", "test")
        },
        "philosophy": {
            "test": [{"question": "Who?", "subject": "philosophy", "choices": ["a", "b", "c", "d"], "answer": 3}],
            "dev": [{"question": "Q", "subject": "philosophy", "choices": ["a", "b", "c", "d"], "answer": 0}],
        },  # fmt: skip
    },
    "cmmlu": {
        "agronomy": {
            split: [{"Question": "哪个是作物？", "A": "水稻", "B": "石头", "C": "铁", "D": "水", "Answer": "A"}]
            for split in ("dev", "test")
        },
    },
    "ceval": {
        "computer_network": {
            "dev": [
                {
                    "id": 0,
                    "question": "TCP 是？",
                    "A": "协议",
                    "B": "硬件",
                    "C": "语言",
                    "D": "文件",
                    "answer": "A",
                    "explanation": "1. 协议",
                }
            ],  # fmt: skip
            "val": [
                {
                    "id": 0,
                    "question": "IP 是？",
                    "A": "地址",
                    "B": "硬件",
                    "C": "语言",
                    "D": "文件",
                    "answer": "A",
                    "explanation": "",
                }
            ],  # fmt: skip
            "test": [
                {
                    "id": 0,
                    "question": "UDP 是？",
                    "A": "协议",
                    "B": "硬件",
                    "C": "语言",
                    "D": "文件",
                    "answer": "",
                    "explanation": "",
                }
            ],  # fmt: skip
        },
    },
}


def make_dataset_folder(root: Path, task: str) -> Path:
    folder = root / f"{task}-hub"
    configs = []
    for subject, splits in SCHEMAS[task].items():
        files = []
        for split, rows in splits.items():
            path = folder / subject / f"{split}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
            files.append(f"  - split: {split}\n    path: {subject}/{split}.jsonl")
        configs.append(f"- config_name: {subject}\n  data_files:\n" + "\n".join(files))
    (folder / "README.md").write_text("---\nconfigs:\n" + "\n".join(configs) + "\n---\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("task", list(SCHEMAS))
def test_conversion_writes_the_task_dir_layout(tmp_path, task):
    source = make_dataset_folder(tmp_path, task)
    folder = fetch_public_benchmark(task, tmp_path / "evaluation", source=str(source))
    assert folder == tmp_path / "evaluation" / task and not list((tmp_path / "evaluation").glob(".*partial"))
    subjects = read_subjects(folder)
    assert [s.key for s in subjects] == list(SCHEMAS[task])
    first = subjects[0]
    split = "val" if task == "ceval" else "test"
    question = read_questions(folder, split, first.key)[0]
    expected = {"mmlu": "B", "cmmlu": "A", "ceval": "A"}[task]
    assert question.answer == expected and len(question.options) == 4
    assert first.category == {"mmlu": "STEM", "cmmlu": "Other", "ceval": "STEM"}[task]
    assert resolve_task_dir(task, str(tmp_path / "evaluation")) == folder  # the next evaluation reads the files
    if task == "ceval":  # its test answers are not public: no test files, and a clear word when asked for them
        with pytest.raises(ArgumentError, match="use --split val"):
            read_questions(folder, "test", first.key)


def test_converted_set_is_scored_and_the_score_says_where_it_came_from(tmp_path, capsys):
    fetch_public_benchmark("mmlu", tmp_path / "evaluation", source=str(make_dataset_folder(tmp_path, "mmlu")))
    flags = ["--model_name_or_path", "qllm-tiny", "--task", "mmlu", "--task_dir", str(tmp_path / "evaluation"),
             "--n_shot", "1", "--save_dir", str(tmp_path / "scores")]  # fmt: skip
    assert main(["eval", *flags]) == 0
    results = json.loads((tmp_path / "scores" / "results.json").read_text())
    assert results["data"].startswith(str(tmp_path / "mmlu-hub"))
    assert sum(s["total"] for s in results["subjects"].values()) == 3


def test_offline_names_what_to_download_and_writes_nothing(tmp_path, capsys):
    assert main(["eval", "--model_name_or_path", "qllm-tiny", "--task", "cmmlu", "--task_dir", str(tmp_path)]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith("error: --task: cmmlu is not under") and "haonan-li/cmmlu" in message
    assert "--task cmmlu_sample" in message and len(message.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_the_sample_is_scored_only_by_name(tmp_path):
    from qllm.paths import SAMPLE_BENCHMARK_DIR

    assert resolve_task_dir("ceval_sample", str(tmp_path)) == SAMPLE_BENCHMARK_DIR / "ceval"


def test_category_tables_cover_each_benchmarks_subjects():
    from qllm.eval.public_benchmarks import PUBLIC_BENCHMARKS

    counts = {task: len(benchmark.categories) for task, benchmark in PUBLIC_BENCHMARKS.items()}
    assert counts == {"mmlu": 57, "cmmlu": 67, "ceval": 52}
