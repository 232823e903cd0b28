"""What fits where: the memory of a base model and an adapter's training state, per model size, method and
quantization — computed from the real architectures' parameter counts — and, measured, the 0.5B shape's base
loaded in bfloat16, 8 and 4 bits on this CPU.

    python benchmarks/bigger_models.py            # writes benchmarks/results/bigger_models.md

Computed: each model is built from its config on the meta device (no weights, no memory) and each method
attached to it as `qllm train` attaches it (default settings, q_proj and v_proj); the counts are exact.
Bytes: a bfloat16 weight 2; an 8-bit linear weight 1 (+ a float32 scale per output row); a 4-bit one 0.5
(+ a scale per 64 weights: 8 bits and a second-level float32 per 256 blocks with --double_quantization,
float32 without); the output head and embeddings stay bfloat16 (transformers does not quantize them);
the adapter float32, each trainable value with its gradient and AdamW's two moments (16 bytes).
Activations are not in it: they grow with batch x length (and shrink with --gradient_checkpointing).

Measured: a random model of Qwen2.5-0.5B's shape is saved once in bfloat16, then loaded in a fresh process
per setting; the table gives transformers' `get_memory_footprint()` (the model's tensors), the process's
resident memory after one forward pass (which touches every weight: transformers maps safetensors files
lazily, so right after loading only touched pages are resident), over the process before loading (torch,
transformers and bitsandbytes imported).  On a GPU the model's tensors are what takes its memory; on the
CPU the process also keeps the pages of the bfloat16 checkpoint it quantized from.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "bigger_models.md"
GiB = 1024**3

# The config.json values of the Qwen2.5 base models (hub: Qwen/Qwen2.5-<size>), the family our users start from.
QWEN25 = {
    "0.5B": dict(hidden_size=896, num_hidden_layers=24, intermediate_size=4864, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "1.5B": dict(hidden_size=1536, num_hidden_layers=28, intermediate_size=8960, num_attention_heads=12,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "3B": dict(hidden_size=2048, num_hidden_layers=36, intermediate_size=11008, num_attention_heads=16,
               num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True),
    "7B": dict(hidden_size=3584, num_hidden_layers=28, intermediate_size=18944, num_attention_heads=28,
               num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False),
    "14B": dict(hidden_size=5120, num_hidden_layers=48, intermediate_size=13824, num_attention_heads=40,
                num_key_value_heads=8, vocab_size=152064, tie_word_embeddings=False),
}  # fmt: skip
METHODS = ("lora", "vqc", "tq", "quanTA", "qpa")
# quanTA's axes must cover the widest adapted layer (the default 16,8,4,2 covers 1024): the axes given per size
QUANTA_AXES = {"0.5B": "16,8,4,2", "1.5B": "16,8,4,4", "3B": "16,8,4,4", "7B": "16,16,4,4", "14B": "16,16,8,4"}
QUANTIZATIONS = ("bf16", "8-bit", "4-bit")


def meta_model(size: str):
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(Qwen2Config(**QWEN25[size]))


def base_counts(model) -> dict[str, int]:
    """Parameters of the linear layers bitsandbytes quantizes (all but the output head), and of the rest."""
    import torch

    head = model.get_output_embeddings()
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head)
    rows = sum(m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head)
    return {"linear": linear, "rows": rows, "other": model.num_parameters() - linear}


def adapter_counts(size: str, method: str) -> dict[str, int]:
    """The adapter's parameters (all, and trainable) as `qllm train` attaches it with its defaults."""
    import torch

    from qllm.adapters.attach import attach_adapter
    from qllm.hparams.finetuning_args import FinetuningArguments

    model = meta_model(size)
    base = model.num_parameters()
    with torch.device("meta"):
        settings = {"per_dim_features": QUANTA_AXES[size]} if method == "quanTA" else {}
        model = attach_adapter(model, FinetuningArguments(finetuning_type=method, **settings), None, True)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"all": sum(p.numel() for p in model.parameters()) - base, "trainable": trainable}


def base_bytes(counts: dict[str, int], quantization: str, double: bool = True) -> float:
    other = counts["other"] * 2
    if quantization == "bf16":
        return counts["linear"] * 2 + other
    if quantization == "8-bit":
        return counts["linear"] * 1 + counts["rows"] * 4 + other
    scales = 1 / 64 + 4 / (64 * 256) if double else 4 / 64
    return counts["linear"] * (0.5 + scales) + other


def computed_table() -> list[str]:
    lines = [
        "| model | parameters | method | adapter (trainable) | bf16 base | 8-bit base | 4-bit base |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in QWEN25:
        counts = base_counts(meta_model(size))
        total = counts["linear"] + counts["other"]
        for method in METHODS:
            adapter = adapter_counts(size, method)
            state = adapter["all"] * 4 + adapter["trainable"] * 12
            cells = [f"{(base_bytes(counts, q) + state) / GiB:.2f} GiB" for q in QUANTIZATIONS]
            lines.append(f"| Qwen2.5-{size} | {total / 1e9:.2f}B | {method} | {adapter['trainable']:,} | "
                         + " | ".join(cells) + " |")  # fmt: skip
    return lines


def measure(folder: str, quantization: str) -> dict[str, float]:
    """One fresh process: the peak resident memory of loading the base in ``quantization``, over a bare one."""
    code = f"""
import json, psutil, torch, transformers, bitsandbytes
from qllm.model.loader import load_model
from qllm.model.quantization import bnb_config
process = psutil.Process()
before = process.memory_info().rss
q = {{"bf16": None, "8-bit": bnb_config(8, "nf4", True, torch.bfloat16),
     "4-bit": bnb_config(4, "nf4", True, torch.bfloat16)}}[{quantization!r}]
model = load_model({folder!r}, dtype="bfloat16", quantization=q)
with torch.no_grad():  # touches every weight (the tied head reads the whole embedding): all of it resident
    model(torch.arange(16).unsqueeze(0))
print(json.dumps({{"footprint": model.get_memory_footprint(), "resident": process.memory_info().rss - before}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measured_table() -> tuple[list[str], dict[str, dict[str, float]]]:
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(Qwen2Config(**QWEN25["0.5B"]), dtype=torch.bfloat16)
        model.save_pretrained(folder)
        del model
        results = {q: measure(folder, q) for q in QUANTIZATIONS}
    counts = base_counts(meta_model("0.5B"))
    lines = ["| base | computed | model's tensors | vs bf16 | process resident after a forward | vs bf16 |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for q, result in results.items():
        lines.append(
            f"| {q} | {base_bytes(counts, q) / GiB:.3f} GiB | {result['footprint'] / GiB:.3f} GiB | "
            f"{result['footprint'] / results['bf16']['footprint']:.2f}x | {result['resident'] / GiB:.3f} GiB | "
            f"{result['resident'] / results['bf16']['resident']:.2f}x |"
        )
    return lines, results


def main() -> None:
    measured, _ = measured_table()
    text = [
        "# Bigger models: what fits where",
        "",
        "Written by `python benchmarks/bigger_models.py` (see its docstring for how each number is made).",
        "",
        "## Computed: base weights + the adapter's training state (activations extra)",
        "",
        *computed_table(),
        "",
        "quanTA's `--per_dim_features` per size (its axes must cover the widest adapted layer): "
        + ", ".join(f"{size} {axes}" for size, axes in QUANTA_AXES.items())
        + ".",
        "",
        "## Measured: the Qwen2.5-0.5B shape's base on this CPU (bitsandbytes "
        + __import__("importlib.metadata").metadata.version("bitsandbytes")
        + ")",
        "",
        *measured,
        "",
    ]
    RESULTS.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
