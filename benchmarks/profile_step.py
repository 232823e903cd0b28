"""Where a short training step's time goes: torch.profiler over every method side by side, eager and compiled.

    python benchmarks/profile_step.py        # writes benchmarks/results/profile_step.md

Batch 4 x 60 tokens (short alpaca-style examples), adapters on q_proj,v_proj, on two
models: a random Qwen2.5-0.5B-shaped model cut to 4 layers (vocab 4096) and the bundled
qllm-tiny.  For each method: the step time (median over 5 rounds in which the methods take
turns, 4 steps each, so that drift in the machine's speed hits all alike), the number of
aten operations per step under the profiler (the fixed cost a short batch pays per
operation), and the operations taking most self CPU time.  The step is forward + backward
+ AdamW, as the Trainer runs it.  The same step with the model under `torch.compile` (inductor,
what `--torch_compile` does) takes its turns too: its step time is the last two columns.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
from adapters import qwen_shaped_model  # benchmarks/adapters.py, next to this script
from peft import get_peft_model
from torch.profiler import ProfilerActivity, profile

from qllm.hparams.finetuning_args import FinetuningArguments

RESULTS = Path(__file__).resolve().parent / "results" / "profile_step.md"
METHODS = ("lora", "vqc", "tq", "quanTA", "qpa")
BATCH, TOKENS, STEPS = 4, 60, 5


def tiny_model():
    from qllm.model.loader import load_model

    return load_model("qllm-tiny")


MODELS = {"Qwen2.5-0.5B shape, 4 layers": lambda: qwen_shaped_model(vocab_size=4096), "qllm-tiny": tiny_model}


def training_step(make_model, method: str, compiled: bool = False):
    torch.manual_seed(0)
    config = FinetuningArguments(finetuning_type=method, lora_target="q_proj,v_proj").peft_config()
    model = get_peft_model(make_model(), config)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, fused=True)  # the Trainer's default, adamw_torch_fused
    ids = torch.randint(0, model.config.vocab_size, (BATCH, TOKENS))
    forward = torch.compile(model) if compiled else model

    def step() -> None:
        forward(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    return step


def step_times(steps: dict, rounds: int = 5, per_round: int = 4) -> dict:
    """Median ms per step; the methods take turns round after round."""
    times: dict[str, list[float]] = {method: [] for method in steps}
    for _ in range(rounds):
        for method, step in steps.items():
            for _ in range(per_round):
                start = time.perf_counter()
                step()
                times[method].append(time.perf_counter() - start)
    return {method: statistics.median(values) * 1000 for method, values in times.items()}


def profile_step(step) -> dict:
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(STEPS):
            step()
    events = profiler.key_averages()
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:4]
    return {
        "ops": sum(e.count for e in events if e.key.startswith("aten::")) / STEPS,
        "top": ", ".join(f"{e.key.removeprefix('aten::')} {e.self_cpu_time_total / STEPS / 1000:.0f} ms" for e in top),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--label", default="", help="a note for the header, e.g. the commit profiled")
    options = parser.parse_args()
    lines = [
        "# Profile of one short training step",
        "",
        f"`python benchmarks/profile_step.py` on {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}; batch {BATCH} x {TOKENS} tokens, q_proj,v_proj; step time = median of 5 rounds "
        "in which the methods take turns, without the profiler; "
        "operations = aten calls per step (forward + backward + AdamW). "
        f"{options.label}",
    ]
    for model_name, make_model in MODELS.items():
        steps = {method: training_step(make_model, method) for method in METHODS}
        results = {method: profile_step(step) for method, step in steps.items()}
        compiled = {(method, "compiled"): training_step(make_model, method, compiled=True) for method in METHODS}
        times = step_times({**steps, **compiled})
        for method in METHODS:
            results[method].update(ms=times[method], compiled_ms=times[(method, "compiled")])
        lora = results["lora"]
        lines += [
            "",
            f"## {model_name}",
            "",
            "| method | step ms | x LoRA | aten ops / step | x LoRA | most self CPU time per step | compiled step ms "
            "| x LoRA compiled |",
            "|---|---:|---:|---:|---:|---|---:|---:|",
        ]
        lines += [
            f"| {m} | {r['ms']:.0f} | {r['ms'] / lora['ms']:.2f} | {r['ops']:,.0f} | {r['ops'] / lora['ops']:.2f} | "
            f"{r['top']} | {r['compiled_ms']:.0f} | {r['compiled_ms'] / lora['compiled_ms']:.2f} |"
            for m, r in results.items()
        ]
    lines.append("")
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
