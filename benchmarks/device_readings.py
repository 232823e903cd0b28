"""What reading a circuit as a device would costs at evaluation: exact vs --shots 1000 vs --noise 0.001, side by side.

    python benchmarks/device_readings.py        # writes benchmarks/results/device_readings.md

`qllm eval --task qllm_tasks` (200 questions: greedy answers, then the eval loss) of qllm-tiny with
a vqc adapter.  Each reading is scored in a fresh process, alternating, 3 times; the time is
the scoring alone (after the model is loaded; one-time builds such as the noisy readout's
operators count), the memory the process's peak resident size minus its size just before scoring.

1. The committed quick-compare vqc adapter (8 qubits, depth 1): all 200 questions.
2. An 8-qubit, depth-2 vqc adapter (a depth-2 circuit's state is mixed and entangled before its
   last layer, so each token's 256 x 256 density matrix is evolved gate by gate): the first
   QUESTIONS_DEPTH2 questions only, as a full run would take hours on 2 CPU cores; the ratio is what
   carries over.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "device_readings.md"
ADAPTER = ROOT / "results" / "compare_quick" / "vqc-seed42"
REPEATS, QUESTIONS_DEPTH2 = 3, 4
READINGS = {
    "exact": [],
    "1000 shots": ["--shots", "1000"],
    "noise depolarizing=0.001": ["--noise", "depolarizing=0.001"],
}

CHILD = r"""
import json, resource, sys, time
from qllm.eval.workflow import prepare_eval, score
argv = json.loads(sys.argv[1])
_, data_args, eval_args, measurement_args, task, loaded = prepare_eval(argv)
def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
before = rss_kb()
start = time.perf_counter()
scored, table = score(loaded, task, eval_args, data_args, measurement_args.measurement())
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
extra_mb = (peak - before) / 1024
print(json.dumps({"seconds": seconds, "extra_mb": extra_mb, "eval_loss": scored["eval_loss"], "table": table}))
"""


def score_once(argv: list[str]) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argv)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def depth2_adapter(folder: Path) -> Path:
    """An 8-qubit depth-2 vqc adapter with its output map B drawn at random (at B = 0 the circuit would not count)."""
    import torch
    from peft import get_peft_model

    from qllm.hparams.finetuning_args import FinetuningArguments
    from qllm.model.loader import load_model

    torch.manual_seed(0)
    model = get_peft_model(load_model("qllm-tiny"), FinetuningArguments(finetuning_type="vqc", q_depth=2).peft_config())
    for name, parameter in model.named_parameters():
        if ".B." in name:
            torch.nn.init.normal_(parameter, std=0.02)
    model.save_pretrained(folder)
    return folder


def compare(adapter: Path, extra: list[str], readings: dict[str, list[str]]) -> dict[str, list[dict]]:
    base = ["--model_name_or_path", "qllm-tiny", "--adapter_name_or_path", str(adapter), "--task", "qllm_tasks",
            "--template", "qwen", "--batch_size", "32", *extra]  # fmt: skip
    runs: dict[str, list[dict]] = {name: [] for name in readings}
    for repeat in range(REPEATS):
        for name, flags in readings.items():
            runs[name].append(score_once([*base, *flags]))
            print(repeat, name, runs[name][-1]["table"], f"{runs[name][-1]['seconds']:.1f} s", flush=True)
    return runs


def table(title: str, runs: dict[str, list[dict]]) -> list[str]:
    exact = statistics.median(run["seconds"] for run in runs["exact"])
    lines = [f"### {title}", "", "| reading | eval loss | scoring time (median of 3) | × exact | peak extra memory |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for name, results in runs.items():
        seconds = statistics.median(run["seconds"] for run in results)
        extra = max(run["extra_mb"] for run in results)
        lines.append(
            f"| {name} | {results[0]['eval_loss']:.4f} | {seconds:.1f} s | {seconds / exact:.2f}× | {extra:.0f} MB |"
        )
    return lines + [""]


def main() -> None:
    import torch

    depth1 = compare(ADAPTER, [], READINGS)
    with tempfile.TemporaryDirectory() as folder:
        adapter = depth2_adapter(Path(folder) / "vqc-depth2")
        readings = {name: READINGS[name] for name in ("exact", "noise depolarizing=0.001")}
        depth2 = compare(adapter, ["--max_samples", str(QUESTIONS_DEPTH2)], readings)
    lines = [
        "# Reading the circuits as a device would: the cost at evaluation",
        "",
        f"`python benchmarks/device_readings.py` — {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, CPU. `qllm eval --task qllm_tasks` of "
        "qllm-tiny with a vqc adapter on q_proj, v_proj; each reading scored in a fresh process, alternating, "
        "3 times; the scoring alone is timed (greedy answers and the eval loss), memory is the peak resident size "
        "above the loaded model's.",
        "",
        *table("8 qubits, depth 1 (the committed quick-compare adapter), 200 questions", depth1),
        *table(f"8 qubits, depth 2 (B drawn at random), the first {QUESTIONS_DEPTH2} questions", depth2),
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(RESULTS.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
