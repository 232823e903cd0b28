"""The GPU check: every method trained with --fp16 and with --bf16 on a Qwen2.5-0.5B-shaped model, side by side.

    python benchmarks/gpu_check.py                 # on a CUDA machine: writes benchmarks/results/gpu.md
    python benchmarks/gpu_check.py --smoke         # anywhere: a 2-layer, narrow model, 3 steps, nothing written
    python benchmarks/gpu_check.py --settings train.sh --methods lora quanTA   # a part of the table
    python benchmarks/gpu_check.py --quantization_bit 4                       # on a 4-bit base (QLoRA-style)
    python benchmarks/gpu_check.py --fsdp                                     # sharded over every GPU (2 or more)
    python benchmarks/gpu_check.py --deepspeed examples/deepspeed/ds_z3_config.json   # ZeRO-3 over every GPU

The model has Qwen2.5-0.5B's shape (24 layers, hidden 896, 14/2 heads, vocabulary 151936)
with random weights, made locally (no download), and qllm-tiny's tokenizer.  Two settings:

* ``train.sh``: the upstream quantum-llm train.sh's setting — batch 1, gradient accumulation 8,
  cutoff 1024, on alpaca-length examples made here (a ~40-token instruction, a 400-token
  response; every example the same length, so a compiled model is not recompiled per step) —
  eager and under ``--torch_compile``;
* ``short``: batch 4 of the bundled ``qllm_tasks`` (~30 tokens each), eager: the launch-bound case.

Each setting x compile x compute type x method trains in its own process (its own peak
memory) through `qllm train`; reported: the median optimizer-step time after 2 warm-up steps
(the first compiled step compiles) and its ratio to LoRA's, tokens per second of those steps,
peak GPU memory and its ratio to LoRA's, whether every loss was finite, and the largest
relative difference between an adapted layer's update under autocast and a float32
recomputation of it.  The table is rewritten after every run, so a run cut short keeps what
it measured.  With --quantization_bit, --fsdp or --deepspeed every run gets the flag
(sharded runs under torchrun, one process per GPU; the first process reports, its own GPU's
peak memory) and the table goes to gpu_<setting>.md beside gpu.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "gpu.md"
METHODS = {
    "lora": [],
    "vqc": ["--finetuning_type", "vqc"],
    "tq": ["--finetuning_type", "tq"],
    "quanTA": ["--finetuning_type", "quanTA"],
    "quanTA zero_last": ["--finetuning_type", "quanTA", "--quanta_init", "zero_last"],
    "qpa": ["--finetuning_type", "qpa"],
}
DEFAULT_METHODS = ["lora", "vqc", "tq", "quanTA", "qpa"]
COMPUTE_TYPES = ("fp16", "bf16")  # the flags --fp16 / --bf16
LONG_DATASET = "alpaca_length"  # made by `make_dataset` in the scratch folder
PROMPT_TOKENS, RESPONSE_TOKENS = 40, 400


@dataclass(frozen=True)
class Setting:
    """A training setting of the check: its `qllm train` flags, optimizer steps per run, and whether it also runs
    under --torch_compile."""

    flags: tuple[str, ...]
    steps: int
    compiled_too: bool
    examples_per_step: int

    def train_flags(self, steps: int, dataset_dir: Path) -> list[str]:
        flags = [*self.flags, "--max_samples", str(steps * self.examples_per_step + 8)]
        return flags + (["--dataset_dir", str(dataset_dir)] if LONG_DATASET in self.flags else [])


SETTINGS = {
    "train.sh": Setting(
        tuple(
            f"--dataset {LONG_DATASET} --per_device_train_batch_size 1 --gradient_accumulation_steps 8 "
            "--cutoff_len 1024".split()
        ),
        steps=4,
        compiled_too=True,
        examples_per_step=8,
    ),  # fmt: skip
    "short": Setting(("--dataset", "qllm_tasks", "--per_device_train_batch_size", "4"), 12, False, 4),
}


def make_dataset(folder: Path, examples: int) -> None:
    """Alpaca-format examples of the upstream train.sh's length: every one PROMPT_TOKENS + RESPONSE_TOKENS long.

    Built from words that are one token each in qllm-tiny's tokenizer (leading space, letters only),
    so every example has the same token count and a compiled model sees one shape.
    """
    import random

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(_tiny_path())
    words = [w for w in map(tokenizer.decode, ([i] for i in range(len(tokenizer)))) if w[:1] == " " and w[1:].isalpha()]
    pick = random.Random(0)
    records = [
        {
            "instruction": "".join(pick.choices(words, k=PROMPT_TOKENS)).strip(),
            "input": "",
            "output": "".join(pick.choices(words, k=RESPONSE_TOKENS)).strip(),
        }
        for _ in range(examples)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{LONG_DATASET}.json").write_text(json.dumps(records), encoding="utf-8")
    (folder / "dataset_info.json").write_text(json.dumps({LONG_DATASET: {"file_name": f"{LONG_DATASET}.json"}}))


def make_model(folder: Path, smoke: bool) -> None:
    """A random-weight Qwen2.5-0.5B-shaped model (or a narrow 2-layer one for --smoke) with qllm-tiny's tokenizer."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    shape = dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936)  # fmt: skip
    if smoke:
        shape.update(
            hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4, vocab_size=2048
        )
    torch.manual_seed(0)
    config = Qwen2Config(**shape, tie_word_embeddings=True, max_position_embeddings=4096)
    Qwen2ForCausalLM(config).to(torch.bfloat16).save_pretrained(folder)  # half the bytes; loaded in the run's dtype
    AutoTokenizer.from_pretrained(_tiny_path()).save_pretrained(folder)


def _tiny_path() -> str:
    from qllm.model.loader import resolve_model_path

    return resolve_model_path("qllm-tiny")


def run_one(model: str, method: str, compute: str, steps: int, out: Path, extra: list[str]) -> dict:
    """Train one method with one compute type in this process; the measurements as a dict."""
    import torch
    from transformers import TrainerCallback

    from qllm.train.log_file import read_log
    from qllm.train.workflow import run_train

    times: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times.append(time.perf_counter() - self.start)

    flags = ["--model_name_or_path", model, "--max_steps", str(steps), "--logging_steps", "1",
             "--learning_rate", "1e-4", "--output_dir", str(out), "--save_strategy", "no", f"--{compute}",
             *METHODS[method], *extra]  # fmt: skip
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    outcome = run_train(flags, callbacks=[StepTimer()])
    losses = [r["loss"] for r in read_log(out) if r.get("loss") is not None]
    warm = times[2:] or times
    tokens_per_step = outcome.metrics.get("num_input_tokens_seen", 0) / max(len(times), 1)
    step_seconds = statistics.median(warm)
    return {
        "method": method,
        "compute": compute,
        "step_ms": 1000 * step_seconds,
        "tokens_per_second": tokens_per_step / step_seconds,
        "peak_mb": torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else float("nan"),
        "finite": bool(losses) and all(map(lambda v: v == v and abs(v) != float("inf"), losses)),
        "update_error": update_error(outcome.model, compute),
        "trainable": outcome.metrics["trainable_params"],
    }


def update_error(model, compute: str) -> float:
    """Largest relative difference of one adapted layer's update under autocast vs a float32 recomputation."""
    import copy

    import torch

    layer = next(m for name, m in model.named_modules() if name.endswith("layers.0.self_attn.q_proj"))
    device = layer.base_layer.weight.device
    x = torch.randn(4, 64, layer.in_features, device=device)
    dtype = torch.float16 if compute == "fp16" else torch.bfloat16
    with torch.no_grad():
        if hasattr(layer, "lora_A"):
            a, b = layer.lora_A["default"], layer.lora_B["default"]
            with torch.autocast(device.type, dtype=dtype):
                value = b(a(x)) * layer.scaling["default"]
            reference = copy.deepcopy(b).float()(copy.deepcopy(a).float()(x)) * layer.scaling["default"]
        else:
            with torch.autocast(device.type, dtype=dtype):
                value = layer.adapter_update("default", x)
            reference = copy.deepcopy(layer.adapters["default"]).float()(x)
    scale = reference.abs().max().clamp_min(1e-12)
    return ((value.float() - reference).abs().max() / scale).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a narrow 2-layer model, 3 steps; writes nothing")
    parser.add_argument("--steps", type=int, help="optimizer steps per run (default: the setting's)")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--no_compile", action="store_true", help="skip the --torch_compile runs")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=DEFAULT_METHODS,
                        help="the methods to run; keep lora for the ratios")  # fmt: skip
    parser.add_argument("--output", type=Path, help="where the table goes (default: results/gpu.md or gpu_<flags>.md)")
    parser.add_argument("--quantization_bit", type=int, choices=(4, 8), help="train every method on a quantized base")
    parser.add_argument("--fsdp", action="store_true", help="shard with FSDP over every GPU (needs 2 or more)")
    parser.add_argument("--deepspeed", metavar="CONFIG", help="a DeepSpeed config, over every GPU (needs 2 or more)")
    parser.add_argument("--one", nargs=4, metavar=("MODEL", "METHOD", "COMPUTE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--run_flags", nargs=argparse.REMAINDER, default=[], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:  # a child run: every `qllm train` flag of its setting comes in --run_flags
        model, method, compute, out = options.one
        result = run_one(model, method, compute, options.steps, Path(out), options.run_flags)
        if int(os.environ.get("RANK", "0")) == 0:
            print("RESULT " + json.dumps(result))
        return

    import torch

    extra = setting_flags(options)
    if not torch.cuda.is_available() and not options.smoke:
        raise SystemExit("no CUDA GPU here: run with --smoke for the CPU path, or on a GPU machine")
    launcher = [sys.executable]
    if options.fsdp or options.deepspeed:
        gpus = torch.cuda.device_count()
        if gpus < 2:
            raise SystemExit(f"--fsdp / --deepspeed shard over 2 or more GPUs; this machine has {gpus}")
        launcher += ["-m", "torch.distributed.run", "--nproc_per_node", str(gpus)]
    setting_name = "_".join(flag.lstrip("-") for flag in extra if flag.startswith("--"))
    output = options.output or (RESULTS.with_name(f"gpu_{setting_name}.md") if setting_name else RESULTS)
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        model, data = Path(scratch) / "qwen2.5-0.5b-shaped", Path(scratch) / "data"
        make_model(model, options.smoke)
        make_dataset(data, 64)
        for name in options.settings:
            setting = SETTINGS[name]
            steps = 3 if options.smoke else options.steps or setting.steps
            for compiled in (False, True) if setting.compiled_too and not options.no_compile else (False,):
                for compute in COMPUTE_TYPES:
                    for method in options.methods:
                        run_flags = setting.train_flags(steps, data) + (["--torch_compile"] if compiled else [])
                        out = Path(scratch) / f"{name}-{compiled}-{method}-{compute}".replace(" ", "_")
                        command = [*launcher, __file__, "--steps", str(steps), "--one", str(model), method,
                                   compute, str(out), "--run_flags", *extra, *run_flags]  # fmt: skip
                        done = subprocess.run(command, capture_output=True, text=True)
                        line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
                        row = {"error": done.stderr[-400:]} if line is None else json.loads(line[len("RESULT ") :])
                        rows.append({**row, "method": method, "compute": compute, "setting": name,
                                     "compiled": compiled, "steps": steps})  # fmt: skip
                        print(json.dumps(rows[-1]), f"({time.perf_counter() - started:.0f} s)", flush=True)
                        report = render(rows, options.smoke, extra)
                        if not options.smoke:
                            output.write_text(report, encoding="utf-8")
    print(report)


def setting_flags(options) -> list[str]:
    """The `qllm train` flags every run of this check gets: a quantized base, FSDP, DeepSpeed."""
    flags = []
    if options.quantization_bit:
        flags += ["--quantization_bit", str(options.quantization_bit)]
    if options.fsdp:
        flags += ["--fsdp", "full_shard auto_wrap"]
    if options.deepspeed:
        flags += ["--deepspeed", str(Path(options.deepspeed).resolve())]
    return flags


def render(rows: list[dict], smoke: bool, extra: list[str]) -> str:
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [
        "# GPU check" + (" (smoke run)" if smoke else ""),
        "",
        f"`python benchmarks/gpu_check.py` on {device}, torch {torch.__version__}, {platform.machine()}; "
        "median optimizer-step time after 2 warm-up steps; tokens/s of those steps"
        + (f"; every run with `{' '.join(extra)}`." if extra else "."),
        "",
        "| setting | compile | compute | method | steps | trainable | step ms | x LoRA step | tokens/s | peak MB "
        "| x LoRA memory | losses finite | update vs fp32 |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        mode = "compiled" if row["compiled"] else "eager"
        where = f"| {row['setting']} | {mode} | {row['compute']} | {row['method']} "
        if "error" in row:
            lines.append(where + f"| failed: {(row['error'].strip().splitlines() or [''])[-1][:80]} ||||||||")
            continue
        lora = next(
            (r for r in rows if "error" not in r and r["method"] == "lora"
             and (r["setting"], r["compiled"], r["compute"]) == (row["setting"], row["compiled"], row["compute"])),
            None,
        )  # fmt: skip
        step_ratio = row["step_ms"] / lora["step_ms"] if lora else float("nan")
        memory_ratio = row["peak_mb"] / lora["peak_mb"] if lora and lora["peak_mb"] == lora["peak_mb"] else float("nan")
        lines.append(
            where + f"| {row['steps']} | {row['trainable']:,} | {row['step_ms']:.0f} | {step_ratio:.2f} | "
            f"{row['tokens_per_second']:.0f} | {row['peak_mb']:.0f} | {memory_ratio:.2f} | "
            f"{'yes' if row['finite'] else 'NO'} | {row['update_error']:.1e} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
