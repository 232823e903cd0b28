"""Gradient checkpointing: memory and step time with and without it, every method side by side.

    python benchmarks/checkpointing.py            # writes benchmarks/results/checkpointing.md
    python benchmarks/checkpointing.py --layers 4 # a quicker, smaller model

A random model of Qwen2.5-0.5B's shape (24 layers of width 896; vocabulary cut to 8192 so
that the output head does not dominate), adapters on q_proj,v_proj, one sequence of 512
tokens, forward + backward + AdamW: each method with and without checkpointing (enabled as
the Trainer enables it: `activation_checkpointing_enable()`, non-reentrant), each in a
process of its own so that one's peak does not hide another's.

- step memory (MB): the peak during one training step above the memory held just before it,
  after a first step has paid every one-time cost (library initialisation, optimizer state):
  activations, gradients and temporaries — what checkpointing trades for recomputation.  CUDA:
  `max_memory_allocated` after `reset_peak_memory_stats`; CPU: the resident high-water mark
  (`VmHWM`, reset through /proc/self/clear_refs) in a process of its own with glibc's
  `MALLOC_MMAP_THRESHOLD_=65536`, so that every tensor is its own mapping, returned when freed,
  and resident memory follows the live tensors instead of the allocator's reserve;
- step ms: median of the timed steps after one warm-up step, in another process with the
  allocator as it comes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import torch
from adapters import median_ms, peft_config, qwen_shaped_model  # benchmarks/adapters.py, next to this

RESULTS = Path(__file__).resolve().parent / "results" / "checkpointing.md"
TOKENS, VOCAB = 512, 8192
SHOWN = ("lora", "vqc", "tq", "quanTA")


def memory_now_and_reset_peak() -> float:
    """MB held now; the peak starts again from here."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated() / 2**20
    Path("/proc/self/clear_refs").write_text("5")  # Linux: the high-water mark restarts at the current size
    return _status_mb("VmRSS")


def peak_mb() -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    return int(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024


def child(method: str, checkpointing: bool, layers: int, repeats: int) -> None:
    """In a subprocess: prints {"ms": median step time} or, with ``repeats`` 0, {"step_mb": one step's peak}."""
    from peft import get_peft_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = get_peft_model(qwen_shaped_model(VOCAB, layers), peft_config(method, ["q_proj", "v_proj"])).to(device)
    if checkpointing:
        model.activation_checkpointing_enable()  # as transformers' Trainer does for --gradient_checkpointing
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(0, VOCAB, (1, TOKENS), device=device)

    def step() -> None:
        model(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()

    if repeats:
        print(json.dumps({"ms": median_ms(step, repeats, warmup=1)}))
        return
    step()  # one-time costs and the optimizer's state
    held = memory_now_and_reset_peak()
    step()
    print(json.dumps({"step_mb": peak_mb() - held}))


def run_child(method: str, checkpointing: bool, layers: int, repeats: int) -> dict:
    command = [sys.executable, __file__, "--child", method, "--layers", str(layers), "--repeats", str(repeats)]
    env = dict(os.environ)
    if repeats == 0 and not torch.cuda.is_available():  # resident memory that follows the live tensors
        env["MALLOC_MMAP_THRESHOLD_"] = "65536"
    done = subprocess.run(
        command + (["--checkpointing"] if checkpointing else []), capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"{method} (checkpointing {checkpointing}) failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(method: str, checkpointing: bool, layers: int, repeats: int) -> dict:
    """Step memory from a one-step process, step time from a timed one."""
    return {
        "step_mb": run_child(method, checkpointing, layers, 0)["step_mb"],
        "ms": run_child(method, checkpointing, layers, repeats)["ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=SHOWN)
    parser.add_argument("--checkpointing", action="store_true")
    options = parser.parse_args()
    if options.child:
        child(options.child, options.checkpointing, options.layers, options.repeats)
        return
    results = {(m, on): measure(m, on, options.layers, options.repeats) for m in SHOWN for on in (False, True)}
    lora_on = results[("lora", True)]
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    lines = [
        "# Gradient checkpointing: step memory and time",
        "",
        f"`python benchmarks/checkpointing.py` on {platform.machine()} ({device}), torch {torch.__version__}: "
        f"a random Qwen2.5-0.5B-shaped model ({options.layers} layers, vocabulary {VOCAB}), q_proj,v_proj, "
        f"1 x {TOKENS} tokens, forward + backward + AdamW; step memory = the peak during a second step above the "
        "memory held before it (CPU: resident memory with MALLOC_MMAP_THRESHOLD_=65536, so that it follows the live "
        f"tensors); step ms = median of {options.repeats} steps after a warm-up, in another process.",
        "",
        "| method | step memory MB | with checkpointing | saved | x LoRA's (checkpointing) "
        "| step ms | with checkpointing | time cost |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for method in SHOWN:
        off, on = results[(method, False)], results[(method, True)]
        lines.append(
            f"| {method} | {off['step_mb']:.0f} | {on['step_mb']:.0f} | {1 - on['step_mb'] / off['step_mb']:.0%} "
            f"| {on['step_mb'] / lora_on['step_mb']:.2f} | {off['ms']:.0f} | {on['ms']:.0f} "
            f"| {on['ms'] / off['ms'] - 1:+.0%} |"
        )
    lines.append("")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
