"""MMLU, CMMLU and C-Eval from the Hugging Face Hub, converted once into the `task_dir` layout.

`qllm eval --task mmlu` with no `<task_dir>/mmlu/` loads `cais/mmlu` with
`datasets.load_dataset`, subject by subject, and writes `<task_dir>/mmlu/mapping.json` and
`{dev,val,test}/<subject>.csv` (question,A,B,C,D,answer), the layout the evaluator reads;
the next evaluation reads the files.  The folder is written under a temporary name and
renamed when complete, so an interrupted download is never taken for the benchmark.
Offline, one line says what to download and where to put it.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qllm.errors import ArgumentError

logger = logging.getLogger(__name__)

SOURCE_FILE = "source.json"  # in a converted folder: where it came from
LETTERS = ("A", "B", "C", "D")


def _mmlu_row(row: dict[str, Any]) -> list[str] | None:
    answer = row["answer"]
    letter = LETTERS[answer] if isinstance(answer, int) else str(answer).strip().upper()
    return [row["question"], *row["choices"], letter]


def _cmmlu_row(row: dict[str, Any]) -> list[str] | None:
    return [row["Question"], row["A"], row["B"], row["C"], row["D"], str(row["Answer"]).strip().upper()]


def _ceval_row(row: dict[str, Any]) -> list[str] | None:
    answer = str(row.get("answer") or "").strip().upper()
    if answer not in LETTERS:
        return None  # C-Eval's test answers are not public
    return [row["question"], row["A"], row["B"], row["C"], row["D"], answer]


def _categories(table: dict[str, str]) -> dict[str, str]:
    """`"Category": "subject subject ..."` -> subject -> category."""
    return {subject: category for category, subjects in table.items() for subject in subjects.split()}


@dataclass(frozen=True)
class PublicBenchmark:
    hub_id: str
    splits: dict[str, str]  # our split name -> the dataset's
    row: Callable[[dict[str, Any]], list[str] | None]  # a dataset row -> question,A,B,C,D,answer (None: skip)
    categories: dict[str, str]  # subject -> STEM / Social Sciences / Humanities / Other


PUBLIC_BENCHMARKS = {
    "mmlu": PublicBenchmark(
        "cais/mmlu",
        {"dev": "dev", "val": "validation", "test": "test"},
        _mmlu_row,
        _categories(
            {
                "STEM": (
                    "abstract_algebra anatomy astronomy college_biology college_chemistry "
                    "college_computer_science college_mathematics college_physics computer_security "
                    "conceptual_physics electrical_engineering elementary_mathematics high_school_biology "
                    "high_school_chemistry high_school_computer_science high_school_mathematics "
                    "high_school_physics high_school_statistics machine_learning"
                ),
                "Humanities": (
                    "formal_logic high_school_european_history high_school_us_history "
                    "high_school_world_history international_law jurisprudence logical_fallacies "
                    "moral_disputes moral_scenarios philosophy prehistory professional_law world_religions"
                ),
                "Social Sciences": (
                    "econometrics high_school_geography high_school_government_and_politics "
                    "high_school_macroeconomics high_school_microeconomics high_school_psychology "
                    "human_sexuality professional_psychology public_relations security_studies sociology "
                    "us_foreign_policy"
                ),
                "Other": (
                    "business_ethics clinical_knowledge college_medicine global_facts human_aging management "
                    "marketing medical_genetics miscellaneous nutrition professional_accounting "
                    "professional_medicine virology"
                ),
            }
        ),
    ),
    "cmmlu": PublicBenchmark(  # CMMLU's "China specific" group folded into the four by topic
        "haonan-li/cmmlu",
        {"dev": "dev", "test": "test"},
        _cmmlu_row,
        _categories(
            {
                "STEM": (
                    "anatomy astronomy college_actuarial_science college_engineering_hydrology "
                    "college_mathematics college_medical_statistics computer_science conceptual_physics "
                    "electrical_engineering elementary_mathematics genetics high_school_biology "
                    "high_school_chemistry high_school_mathematics high_school_physics machine_learning "
                    "virology"
                ),
                "Humanities": (
                    "ancient_chinese arts chinese_history chinese_literature college_law elementary_chinese "
                    "global_facts international_law jurisprudence logical marxist_theory modern_chinese "
                    "philosophy professional_law world_history world_religions"
                ),
                "Social Sciences": (
                    "business_ethics chinese_civil_service_exam chinese_food_culture chinese_foreign_policy "
                    "chinese_teacher_qualification college_education economics education ethnology "
                    "high_school_geography high_school_politics journalism management marketing "
                    "professional_accounting professional_psychology public_relations security_study "
                    "sociology"
                ),
                "Other": (
                    "agronomy chinese_driving_rule clinical_knowledge college_medicine computer_security "
                    "construction_project_management elementary_commonsense "
                    "elementary_information_and_technology food_science human_sexuality legal_and_moral_basis "
                    "nutrition professional_medicine sports_science traditional_chinese_medicine"
                ),
            }
        ),
    ),
    "ceval": PublicBenchmark(
        "ceval/ceval-exam",
        {"dev": "dev", "val": "val", "test": "test"},
        _ceval_row,
        _categories(
            {
                "STEM": (
                    "computer_network operating_system computer_architecture college_programming "
                    "college_physics college_chemistry advanced_mathematics probability_and_statistics "
                    "discrete_mathematics electrical_engineer metrology_engineer high_school_mathematics "
                    "high_school_physics high_school_chemistry high_school_biology middle_school_mathematics "
                    "middle_school_biology middle_school_physics middle_school_chemistry veterinary_medicine"
                ),
                "Social Sciences": (
                    "college_economics business_administration marxism mao_zedong_thought education_science "
                    "teacher_qualification high_school_politics high_school_geography middle_school_politics "
                    "middle_school_geography"
                ),
                "Humanities": (
                    "modern_chinese_history ideological_and_moral_cultivation logic law "
                    "chinese_language_and_literature art_studies professional_tour_guide legal_professional "
                    "high_school_chinese high_school_history middle_school_history"
                ),
                "Other": (
                    "civil_servant sports_science plant_protection basic_medicine clinical_medicine "
                    "urban_and_rural_planner accountant fire_engineer "
                    "environmental_impact_assessment_engineer tax_accountant physician"
                ),
            }
        ),
    ),
}


def fetch_public_benchmark(task: str, task_dir: Path, source: str | None = None) -> Path:
    """`<task_dir>/<task>/` written from the hub dataset (or ``source``, a dataset folder in its schema)."""
    benchmark = PUBLIC_BENCHMARKS[task]
    source = source or benchmark.hub_id
    target = task_dir / task
    if target.exists():
        raise ArgumentError("task_dir", f"{target} exists but holds no mapping.json; move it away or complete it")
    try:
        from datasets import get_dataset_config_names, load_dataset

        subjects = [name for name in get_dataset_config_names(source) if name != "all"]
        logger.info("converting %s (%d subjects) into %s", source, len(subjects), target)
        partial = task_dir / f".{task}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        mapping = {}
        for subject in subjects:
            dataset = load_dataset(source, subject)
            for ours, theirs in benchmark.splits.items():
                if theirs in dataset:
                    _write_split(partial / ours / f"{subject}.csv", dataset[theirs], benchmark.row)
            name = subject.replace("_", " ")
            mapping[subject] = {"name": name, "category": benchmark.categories.get(subject, "Other")}
    except ArgumentError:
        raise
    except Exception as err:  # offline, no such dataset, a network error: nothing usable was written
        reason = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise ArgumentError(
            "task",
            f"{task} is not under {target} and {source} cannot be loaded ({reason}); where you have network, run "
            f"qllm eval --task {task} once (it converts {benchmark.hub_id} into {target}), or copy that folder here; "
            f"--task {task}_sample scores the bundled sample",
        ) from None
    (partial / "mapping.json").write_text(json.dumps(mapping, ensure_ascii=False, indent=1), encoding="utf-8")
    (partial / SOURCE_FILE).write_text(json.dumps({"source": source}), encoding="utf-8")
    partial.rename(target)
    return target


def _write_split(path: Path, rows, convert: Callable[[dict[str, Any]], list[str] | None]) -> None:
    converted = [row for row in (convert(r) for r in rows) if row is not None]
    if not converted:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question", *LETTERS, "answer"])
        writer.writerows(converted)


def describe_source(folder: Path) -> str:
    """Where a benchmark folder's questions came from, in words (shown with every score)."""
    from qllm.paths import SAMPLE_BENCHMARK_DIR

    if folder.resolve().parent == SAMPLE_BENCHMARK_DIR.resolve():
        return f"bundled sample ({folder})"
    record = folder / SOURCE_FILE
    if record.is_file():
        return f"{json.loads(record.read_text(encoding='utf-8'))['source']} ({folder})"
    return str(folder)
