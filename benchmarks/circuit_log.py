"""What `circuit_log.jsonl` costs: a vqc run's step time with the circuit log on and off, side by side.

    python benchmarks/circuit_log.py        # writes benchmarks/results/circuit_log.md

qllm-tiny, vqc with quantum-llm's circuit (8 qubits, depth 1) on q_proj,v_proj, batch 8,
--logging_steps 10, 60 steps; after one discarded warm-up run, 5 runs per setting,
alternating, in this process.  Two numbers:

- the side-by-side ratio of the medians of the Trainer's own `train_runtime` per step (on this
  2-core VM the run-to-run spread is ±10 %, larger than the effect);
- the share of each "on" run's `train_runtime` spent inside the circuit log's callbacks
  (its probe forward pass, readouts, gradient norms and file writes), timed around them: the
  cost itself, without the spread between runs.

qllm-tiny is the worst case for the log's share: its steps are short, while the log's probe
forward (4 examples of 64 tokens every 10 steps) costs about the same on any model.
"""

from __future__ import annotations

import functools
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from qllm.train import circuit_log
from qllm.train.workflow import run_train

RESULTS = Path(__file__).resolve().parent / "results" / "circuit_log.md"
STEPS, REPEATS = 60, 5
SETTINGS = {"model_name_or_path": "qllm-tiny", "dataset": "qllm_tasks", "template": "qwen", "finetuning_type": "vqc",
            "n_qubits": 8, "q_depth": 1, "max_samples": 480, "per_device_train_batch_size": 8,
            "learning_rate": 2e-3, "max_steps": STEPS, "logging_steps": 10, "save_strategy": "no", "seed": 0,
            "disable_tqdm": True}  # fmt: skip
inside_log: list[float] = []  # seconds spent in the circuit log's callbacks during the current run


def timed(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            inside_log.append(time.perf_counter() - start)

    return wrapper


for hook in ("on_train_begin", "on_pre_optimizer_step", "on_log"):
    setattr(circuit_log.CircuitLog, hook, timed(getattr(circuit_log.CircuitLog, hook)))


def one_run(on: bool, folder: Path) -> tuple[float, float]:
    """(seconds per step, share of train_runtime inside the circuit log)."""
    inside_log.clear()
    run_train({**SETTINGS, "circuit_log": on, "output_dir": str(folder)})
    runtime = json.loads((folder / "train_results.json").read_text())["train_runtime"]
    return runtime / STEPS, sum(inside_log) / runtime


def main() -> None:
    per_step: dict[bool, list[float]] = {True: [], False: []}
    shares: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        one_run(True, Path(scratch) / "warm-up")
        for repeat in range(REPEATS):
            for on in (False, True):
                seconds, share = one_run(on, Path(scratch) / f"{on}-{repeat}")
                per_step[on].append(seconds)
                if on:
                    shares.append(share)
    off, on = statistics.median(per_step[False]), statistics.median(per_step[True])
    runs = {setting: ", ".join(f"{1000 * t:.1f}" for t in times) for setting, times in per_step.items()}
    lines = [
        "# circuit_log.jsonl: its cost per training step",
        "",
        "`python benchmarks/circuit_log.py` — qllm-tiny, vqc (8 qubits, depth 1), batch 8, `--logging_steps 10`,",
        f"{STEPS} steps, {REPEATS} runs per setting alternating after a warm-up run, in one process.",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"Python {sys.version.split()[0]}.",
        "",
        "| circuit log | ms per step (median) | runs (ms per step) |",
        "|---|---:|---|",
        f"| off (`--circuit_log false`) | {1000 * off:.1f} | {runs[False]} |",
        f"| on (default) | {1000 * on:.1f} | {runs[True]} |",
        "",
        f"- side by side, on / off: **{on / off:.3f}** (medians; the spread between runs is larger than the effect)",
        f"- time inside the circuit log's callbacks: **{100 * statistics.median(shares):.1f} %** of `train_runtime` "
        f"(median; runs: {', '.join(f'{100 * s:.1f}' for s in shares)} %)",
        "",
        "Target (issue 19): within 5 %.",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
