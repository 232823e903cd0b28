"""Accuracy of qllm-tiny before and after fine-tuning with each method, side by side.

    python benchmarks/accuracy.py           # trains with examples/train_*.sh, writes benchmarks/results/accuracy.md
    python benchmarks/accuracy.py --no-train  # scores the adapters already in saves/

Scores: exact match and eval loss on the `qllm_tasks` test split, and the average
accuracy on the bundled mmlu / cmmlu / ceval samples (5-shot), for the base model and
the adapter each example script saves.  The wall time of each training script is kept.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from qllm.paths import DATA_DIR, EVALUATION_DIR, PROJECT_ROOT

RESULTS_DIR = Path(__file__).resolve().parent / "results"

SCRIPTS = {"lora": "train.sh", "vqc": "train_vqc.sh", "tq": "train_tq.sh", "quanTA": "train_quanta.sh"}
RESULTS = RESULTS_DIR / "accuracy.md"


def train(method: str) -> float:
    start = time.time()
    subprocess.run(
        ["bash", str(PROJECT_ROOT / "examples" / SCRIPTS[method])],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHON": sys.executable},
    )
    return time.time() - start


def score(method: str | None) -> list[str]:
    """The scores of the base model (method None) or of the adapter examples/train*.sh saved for ``method``."""
    from qllm.eval.workflow import run_eval

    common = {"model_name_or_path": "qllm-tiny", "template": "qwen", "batch_size": 16}
    if method:
        common["finetuning_type"] = method
        common["adapter_name_or_path"] = str(PROJECT_ROOT / "saves" / "qllm-tiny" / method / "qllm_tasks")
    tasks = run_eval({**common, "task": "qllm_tasks", "dataset_dir": str(DATA_DIR)})
    cells = [f"{100 * tasks['accuracy']:.1f}", f"{tasks['eval_loss']:.3f}"]
    for benchmark in ("mmlu", "cmmlu", "ceval"):
        result = run_eval({**common, "task": f"{benchmark}_sample", "task_dir": str(EVALUATION_DIR), "n_shot": 5})
        cells.append(f"{result['categories']['Average']:.1f}")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-train", action="store_true", help="score the adapters already saved")
    options = parser.parse_args()
    rows = [["base model", "", *score(None)]]
    for method in SCRIPTS:
        seconds = "" if options.no_train else f"{train(method):.0f}"
        rows.append([method, seconds, *score(method)])
    lines = [
        "# Accuracy of qllm-tiny, base and fine-tuned",
        "",
        "`python benchmarks/accuracy.py`: each method trained by its `examples/train*.sh` (quantum-llm's flags,",
        "`qllm_tasks`, 3 epochs) on 2 CPU cores, then scored. qllm_tasks: 200 test questions, exact match;",
        "mmlu / cmmlu / ceval: the bundled samples (60 / 48 / 36 test questions, 5-shot; chance is 25 %).",
        "",
        "| model | train script wall time (s) | qllm_tasks exact match (%) | qllm_tasks eval loss | mmlu sample (%) "
        "| cmmlu sample (%) | ceval sample (%) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
