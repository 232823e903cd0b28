"""Time per generated token of a chat reply on qllm-tiny, each method side by side with LoRA.

    python benchmarks/chat_speed.py        # writes benchmarks/results/chat_speed.md

Each method's adapter is made with peft on qllm-tiny, moved off its identity start (the
time per token does not depend on what it learned), saved, and loaded as chat loads it
(frozen, its builds kept); 64 greedy tokens are generated after a ChatML prompt, in 15
rounds in which the methods take turns; medians of the rounds.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from peft import get_peft_model

from qllm.adapters.attach import load_adapters
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.model.loader import load_model, load_tokenizer

RESULTS = Path(__file__).resolve().parent / "results" / "chat_speed.md"
METHODS = ("lora", "vqc", "tq", "quanTA")
NEW_TOKENS = 64
ROUNDS = 15  # timings on a shared 2-core machine drift: medians of several interleaved rounds
PROMPT = "<|im_start|>user\nTell me a long story about rivers.<|im_end|>\n<|im_start|>assistant\n"


def adapted_model(method: str, folder: Path):
    """The adapter as chat loads it: saved, then loaded frozen onto a fresh base (its builds kept)."""
    torch.manual_seed(0)
    model = get_peft_model(load_model("qllm-tiny"), FinetuningArguments(finetuning_type=method).peft_config())
    with torch.no_grad():
        for parameter in (p for p in model.parameters() if p.requires_grad):
            parameter.add_(0.05 * torch.randn_like(parameter))
    model.save_pretrained(folder / method)
    return load_adapters(load_model("qllm-tiny"), str(folder / method), is_trainable=False).eval()


def ms_per_token(model, inputs) -> float:
    start = time.perf_counter()
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False)
    return 1000 * (time.perf_counter() - start) / (output.shape[1] - inputs["input_ids"].shape[1])


def main() -> None:
    tokenizer = load_tokenizer("qllm-tiny")
    inputs = tokenizer(PROMPT, return_tensors="pt", add_special_tokens=False)
    with tempfile.TemporaryDirectory() as folder:
        models = {method: adapted_model(method, Path(folder)) for method in METHODS}
    for model in models.values():
        ms_per_token(model, inputs)  # warm-up
    rounds = {method: [] for method in METHODS}
    for _ in range(ROUNDS):
        for method, model in models.items():
            rounds[method].append(ms_per_token(model, inputs))
    times = {method: statistics.median(values) for method, values in rounds.items()}
    lines = [
        "# Chat: time per generated token on qllm-tiny",
        "",
        f"`python benchmarks/chat_speed.py` on {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}; {NEW_TOKENS} greedy tokens, median of {ROUNDS} rounds in which the methods "
        "take turns; adapters saved and loaded as chat loads them.",
        "",
        "| method | ms / token | x LoRA |",
        "|---|---:|---:|",
    ]
    lines += [f"| {m} | {t:.2f} | {t / times['lora']:.2f} |" for m, t in times.items()]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
