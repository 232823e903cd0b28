"""Adapter speed and memory, side by side: LoRA vs vqc vs tq vs quanTA vs qpa (and the naive circuit).

    python benchmarks/adapters.py            # writes benchmarks/results/adapters.md
    python benchmarks/adapters.py --quick    # fewer repeats, for a smoke run

1. One adapted layer, d_in = d_out = 896, 1024 tokens, forward + backward; the methods
   take turns over three rounds (median of the rounds' medians).
2. One training step (forward + backward + AdamW) of a Qwen2.5-0.5B-shaped model cut to
   4 layers (random weights), 512 tokens, adapters on q_proj,v_proj; each method runs in
   its own process so that its peak memory is its own, and the methods take turns over
   three rounds (median of the rounds' medians).
3. The same step on a short batch, 4 x 64 tokens (short alpaca-style examples) and a
   4096-token vocabulary, where the adapters' fixed cost per step weighs most.  Targets:
   vqc and tq <= 1.15x LoRA's step.
4. Inference of that model: base; quanTA and qpa unmerged, and merged into the weights.

Times are medians over repeats after warm-up; ratios are to LoRA (or to the base model).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

import qllm  # noqa: F401 - registers vqc/tq/quanTA/qpa with peft

RESULTS = Path(__file__).resolve().parent / "results" / "adapters.md"
# label -> FinetuningArguments of the method
METHODS = {
    "lora": {"finetuning_type": "lora"},
    "vqc": {"finetuning_type": "vqc"},
    "tq": {"finetuning_type": "tq"},
    "quanTA": {"finetuning_type": "quanTA"},
    "quanTA zero_last": {"finetuning_type": "quanTA", "quanta_init": "zero_last"},
    "qpa": {"finetuning_type": "qpa"},
}


def peft_config(method: str, targets: list[str]):
    from qllm.hparams.finetuning_args import FinetuningArguments

    return FinetuningArguments(lora_target=",".join(targets), **METHODS[method]).peft_config()


def median_ms(step, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def layer_times(repeats: int, rounds: int) -> dict[str, float]:
    """fwd+bwd of one adapted 896x896 layer on 1024 tokens, per method; methods take turns each round."""
    from peft import get_peft_model

    torch.manual_seed(0)
    x = torch.randn(1024, 896, requires_grad=True)
    steps = {}
    variants = [(m, m, None) for m in METHODS] + [
        ("vqc, gate by gate", "vqc", False),
        ("tq, gate by gate", "tq", False),
    ]
    for label, method, fast in variants:
        config = peft_config(method, ["0"])
        config.task_type = None  # a bare layer, not a causal LM
        layer = get_peft_model(torch.nn.Sequential(torch.nn.Linear(896, 896)), config).base_model.model[0]
        if fast is not None:
            adapter = layer.adapters["default"]
            torch.nn.init.normal_(adapter.B.weight)
            steps[label] = lambda layer=layer, adapter=adapter: (
                (layer.base_layer(x) + adapter(x, fast=False)).sum().backward()
            )
        else:
            steps[label] = lambda layer=layer: layer(x).sum().backward()
    samples: dict[str, list[float]] = {label: [] for label in steps}
    for _ in range(rounds):
        for label, step in steps.items():
            samples[label].append(median_ms(step, repeats if "gate by gate" not in label else max(2, repeats // 3)))
    return {label: statistics.median(times) for label, times in samples.items()}


# name -> (batch, tokens per example, vocabulary) of a training-step section
STEP_SHAPES = {"long": (1, 512, 8192), "short": (4, 64, 4096)}


def qwen_shaped_model(vocab_size: int = 8192, layers: int = 4):
    """A random model of Qwen2.5-0.5B's layer shape (24 layers in the real one), in float32."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=layers,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
    )
    return Qwen2ForCausalLM(config)


def training_step_child(method: str, repeats: int, shape: str) -> None:
    """Runs in a subprocess: prints {"ms": median step time, "peak_mb": peak memory}."""
    from peft import get_peft_model

    from qllm.train.callbacks import peak_memory_mb

    batch, tokens, vocab_size = STEP_SHAPES[shape]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = get_peft_model(qwen_shaped_model(vocab_size), peft_config(method, ["q_proj", "v_proj"])).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, fused=True)  # the Trainer's default, adamw_torch_fused
    ids = torch.randint(0, vocab_size, (batch, tokens), device=device)

    def step() -> None:
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()

    ms = median_ms(step, repeats)
    trainable, _ = model.get_nb_trainable_parameters()
    print(json.dumps({"ms": ms, "peak_mb": peak_memory_mb(), "trainable": trainable}))


def training_steps(repeats: int, rounds: int, shape: str) -> dict[str, dict]:
    """Methods take turns, round after round, so that drift in the machine's speed hits all alike."""
    runs: dict[str, list[dict]] = {method: [] for method in METHODS}
    for _ in range(rounds):
        for method in METHODS:
            done = subprocess.run(
                [sys.executable, __file__, "--child", method, "--shape", shape, "--repeats", str(repeats)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[method].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        method: {
            "ms": statistics.median(r["ms"] for r in results),
            "peak_mb": statistics.median(r["peak_mb"] for r in results),
            "trainable": results[0]["trainable"],
        }
        for method, results in runs.items()
    }


def inference_times(repeats: int) -> dict[str, float]:
    from peft import get_peft_model

    model = qwen_shaped_model().eval()
    ids = torch.randint(0, 8192, (1, 512))
    results = {}
    with torch.no_grad():
        results["base model"] = median_ms(lambda: model(ids), repeats)
        for method in ("quanTA", "qpa"):  # each on its own copy: merging writes into the base weights
            peft_model = get_peft_model(copy.deepcopy(model), peft_config(method, ["q_proj", "v_proj"])).eval()
            peft_model.requires_grad_(False)  # as chat and eval load an adapter: its builds are kept
            results[f"{method}, unmerged"] = median_ms(lambda adapted=peft_model: adapted(ids), repeats)
            merged = peft_model.merge_and_unload()
            results[f"{method}, merged"] = median_ms(lambda plain=merged: plain(ids), repeats)
    return results


def step_table(steps: dict) -> list[str]:
    lora = steps["lora"]
    lines = [
        "| method | trainable params | step ms | x LoRA | peak memory MB | x LoRA |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    return lines + [
        f"| {m} | {r['trainable']:,} | {r['ms']:.0f} | {r['ms'] / lora['ms']:.2f} | {r['peak_mb']:.0f} | "
        f"{r['peak_mb'] / lora['peak_mb']:.2f} |"
        for m, r in steps.items()
    ]


def write_report(layer: dict, steps: dict, short_steps: dict, inference: dict, repeats: int) -> str:
    lora_layer = layer["lora"]
    lines = [
        "# Adapter benchmark",
        "",
        f"`python benchmarks/adapters.py` on {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"device {'cuda: ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'}; "
        f"medians over 3 rounds in which the methods take turns ({repeats // 2} repeats each); "
        "timings on a shared 2-core VM drift by 10-20 % between runs, so compare ratios within one run.",
        "",
        "## One adapted layer (896 -> 896, 1024 tokens, forward + backward)",
        "",
        "| method | ms | x LoRA |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {ms:.1f} | {ms / lora_layer:.2f} |" for name, ms in layer.items()]
    lines += [
        "",
        "## One training step, Qwen2.5-0.5B shape cut to 4 layers, 512 tokens, q_proj,v_proj",
        "",
        *step_table(steps),
        "",
        "## Short batch: the same step at batch 4 x 64 tokens, vocabulary 4096 (target: vqc, tq <= 1.15x LoRA)",
        "",
        *step_table(short_steps),
    ]
    base = inference["base model"]
    lines += [
        "",
        "## Inference of the same model (512 tokens, forward only)",
        "",
        "| model | ms | x base |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {ms:.1f} | {ms / base:.2f} |" for name, ms in inference.items()]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 10")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--child", choices=list(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--shape", choices=list(STEP_SHAPES), default="long", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args()
    repeats = options.repeats or (3 if options.quick else 10)
    if options.child:
        training_step_child(options.child, repeats, options.shape)
        return
    rounds = 1 if options.quick else 3
    layer = layer_times(max(2, repeats // 2), rounds)
    steps = training_steps(max(2, repeats // 2), rounds, "long")
    short_steps = training_steps(repeats, rounds, "short")
    inference = inference_times(repeats)
    report = write_report(layer, steps, short_steps, inference, repeats)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
