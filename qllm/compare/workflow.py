"""`qllm compare`: every method x seed trained with the same data, schedule and budget, then one report.

    qllm compare --methods lora,vqc,tq,quanTA,qpa --seeds 3 [--preset quick|qwen05b-alpaca] [train flags ...]

Each run is `python -m qllm train <args.yaml>` in a process of its own (its peak memory its
own, a failure its own), one after another, into `<saves>/<model>/<method>/<name>-seed<k>`,
where the board's Compare finds them.  An interrupted comparison resumes: finished runs
are kept, an unfinished one resumes from its checkpoint.  The report goes to
`<saves>/<model>/compare/<name>/` (compare.md, .json, .html, .png).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qllm.circuit import CIRCUIT_METHODS
from qllm.constants import CONSOLE_LOG, EVALUATIONS_FOLDER, FINISHED_MARKER
from qllm.errors import ArgumentError
from qllm.hparams.lists import split_names
from qllm.hparams.measurement_args import MeasurementArguments
from qllm.methods import METHODS, find_method
from qllm.paths import saves_dir
from qllm.train.output_dir import claim_run_folder

logger = logging.getLogger(__name__)

# quantum-llm's train.sh (Qwen2.5-0.5B, alpaca_gpt4_en) and a few-minute CPU setting on the bundled model.
PRESETS: dict[str, dict[str, Any]] = {
    "qwen05b-alpaca": {
        "model_name_or_path": "Qwen/Qwen2.5-0.5B", "dataset": "alpaca_gpt4_en", "template": "qwen",
        "cutoff_len": 1024, "per_device_train_batch_size": 1, "per_device_eval_batch_size": 1,
        "gradient_accumulation_steps": 8, "lr_scheduler_type": "cosine", "logging_steps": 10, "warmup_steps": 20,
        "save_steps": 100, "eval_steps": 100, "eval_strategy": "steps", "learning_rate": 5e-5,
        "num_train_epochs": 3.0, "max_samples": 1000, "val_size": 0.1, "fp16": True,
    },
    "quick": {
        "model_name_or_path": "qllm-tiny", "dataset": "qllm_tasks", "template": "qwen", "cutoff_len": 256,
        "per_device_train_batch_size": 8, "per_device_eval_batch_size": 16, "lr_scheduler_type": "cosine",
        "logging_steps": 2, "warmup_steps": 4, "save_steps": 20, "eval_steps": 10, "eval_strategy": "steps",
        "learning_rate": 2e-3, "num_train_epochs": 1.0, "max_samples": 320, "val_size": 0.1,
    },
}  # fmt: skip


@dataclass
class ComparePlan:
    methods: list[str]
    seeds: list[int]
    name: str
    train_argv: list[str]  # the `qllm train` flags every run shares (preset, then the user's flags)
    model: str
    dataset: str
    dataset_dir: str
    data_flags: list[str]  # what scoring needs to read the same data the same way, with the same (quantized) base
    saves: Path
    reading_flags: list[str] = field(default_factory=list)  # --shots / --noise for scoring vqc / tq runs

    @property
    def score_name(self) -> str:
        """The folder of a run's exact-match scoring: one per reading of the circuits."""
        return "compare-exact-match" + "".join(f"-{token.lstrip('-')}" for token in self.reading_flags)

    def run_dir(self, method: str, seed: int) -> Path:
        return self.saves / Path(self.model.rstrip("/")).name / method / f"{self.name}-seed{seed}"

    @property
    def report_dir(self) -> Path:
        return self.saves / Path(self.model.rstrip("/")).name / "compare" / self.name

    def run_argv(self, method: str, seed: int) -> list[str]:
        output = str(self.run_dir(method, seed))
        return [*self.train_argv, "--finetuning_type", method, "--seed", str(seed), "--output_dir", output,
                "--plot_loss", "--do_train"]  # fmt: skip


PRESET_ALIASES = {"seed": "qwen05b-alpaca"}  # the earlier name, still accepted (it read like --seeds)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qllm compare", add_help=True)
    parser.add_argument("--methods", default="lora,vqc,tq,quanTA,qpa", help="methods to compare, comma-separated")
    parser.add_argument("--seeds", default="3", help="runs per method (seeds 0..N-1 added to --seed)")
    parser.add_argument(
        "--preset",
        type=lambda name: PRESET_ALIASES.get(name, name),
        choices=list(PRESETS),
        help="quick: qllm-tiny + qllm_tasks; qwen05b-alpaca: quantum-llm's train.sh setting",
    )
    parser.add_argument("--compare_name", default="compare", help="name of the comparison (its folders)")
    parser.add_argument("--exact_match", default="auto", choices=["auto", "yes", "no"],
                        help="score exact match on the dataset's test split (auto: when it has one)")  # fmt: skip
    parser.add_argument("--shots", type=int, default=0, help="score vqc / tq runs from this many shots (0: exact)")
    parser.add_argument("--noise", default="0", help="score vqc / tq runs on a noisy device, e.g. depolarizing=0.001")
    return parser


def quantization_flags(model_args) -> list[str]:
    """The flags that load the base as the runs trained on it (a 4- or 8-bit base), for scoring."""
    if model_args.quantization_bit is None:
        return []
    double = str(model_args.double_quantization).lower()
    return ["--quantization_bit", str(model_args.quantization_bit), "--quantization_type",
            model_args.quantization_type, "--double_quantization", double]  # fmt: skip


def plan_compare(argv: list[str]) -> tuple[ComparePlan, str]:
    """The comparison's plan and its exact-match choice; every run's arguments are checked before any starts."""
    from qllm.hparams.parser import get_train_args, train_argv

    options, user_argv = _parser().parse_known_args(argv)
    methods = [find_method(name) for name in split_names(options.methods)]
    if not methods or None in methods:
        unknown = next((n for n in split_names(options.methods) if find_method(n) is None), options.methods)
        raise ArgumentError("methods", f"unknown method '{unknown}'; choose from {', '.join(METHODS)}")
    if not options.seeds.isdigit() or int(options.seeds) < 1:
        raise ArgumentError("seeds", f"must be a whole number of runs per method, at least 1 (got {options.seeds})")
    if any(token.lstrip("-").split("=")[0] in ("output_dir", "finetuning_type") for token in user_argv):
        raise ArgumentError("output_dir", "compare chooses each run's output_dir and method; leave both out")
    reading = MeasurementArguments(shots=options.shots, noise=options.noise)  # checked here, before any run
    shared = train_argv(PRESETS[options.preset] if options.preset else {}) + user_argv  # later flags win
    model_args, data_args, training_args, _ = get_train_args([*shared, "--output_dir", "compare-probe"])
    plan = ComparePlan(
        methods=[m.name for m in methods],
        seeds=[training_args.seed + k for k in range(int(options.seeds))],
        name=options.compare_name,
        train_argv=shared,
        model=model_args.model_name_or_path,
        dataset=data_args.dataset_names[0],
        dataset_dir=data_args.dataset_dir,
        data_flags=["--template", data_args.template, "--dataset_dir", data_args.dataset_dir]
        + (["--max_samples", str(data_args.max_samples)] if data_args.max_samples else [])
        + quantization_flags(model_args),
        saves=saves_dir(),
        reading_flags=(["--shots", str(reading.shots)] if reading.shots else [])
        + (["--noise", reading.noise_model.spec()] if reading.noise_model else []),
    )
    from qllm.adapters.attach import check_new_adapter
    from qllm.model.loader import resolve_model_path

    local_model = Path(resolve_model_path(plan.model)).is_dir()  # a hub model is checked when its run loads it
    for method in plan.methods:  # each method's settings fail here, not after hours of training
        run_model_args, _, _, run_finetuning_args = get_train_args(plan.run_argv(method, plan.seeds[0]))
        if local_model and not run_model_args.adapter_name_or_path:
            check_new_adapter(run_model_args.model_name_or_path, run_finetuning_args, run_model_args.cache_dir)
    return plan, options.exact_match


@dataclass
class RunOutcome:
    method: str
    seed: int
    folder: str
    ok: bool
    cause: str = ""  # the last lines of the run's output when it failed


def train_one(plan: ComparePlan, method: str, seed: int) -> RunOutcome:
    """One run in its own process; a finished run is kept, an unfinished one resumes."""
    folder = plan.run_dir(method, seed)
    if (folder / FINISHED_MARKER).is_file():
        logger.info("%s seed %d: finished earlier, kept", method, seed)
        return RunOutcome(method, seed, str(folder), True)
    claim_run_folder(folder, [CONSOLE_LOG])
    logger.info("%s seed %d: training into %s", method, seed, folder)
    with (folder / CONSOLE_LOG).open("w", encoding="utf-8") as console:
        done = subprocess.run([sys.executable, "-m", "qllm", "train", *plan.run_argv(method, seed)], stdout=console,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    if done.returncode == 0:
        return RunOutcome(method, seed, str(folder), True)
    lines = (folder / CONSOLE_LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    cause = next((line for line in reversed(lines) if line.startswith("error:")), lines[-1] if lines else "no output")
    logger.warning("%s seed %d failed: %s", method, seed, cause)
    return RunOutcome(method, seed, str(folder), False, cause)


def score_one(plan: ComparePlan, outcome: RunOutcome) -> float | None:
    """Exact match on the dataset's test split, in a process of its own (None when it fails); a vqc / tq run's
    circuits read with the comparison's --shots / --noise (the other methods have none to read)."""
    reading = plan.reading_flags if outcome.method in CIRCUIT_METHODS else []
    save_dir = Path(outcome.folder) / EVALUATIONS_FOLDER / (plan.score_name if reading else "compare-exact-match")
    results = save_dir / "results.json"
    if not results.is_file():
        command = [sys.executable, "-m", "qllm", "eval", "--model_name_or_path", plan.model, "--adapter_name_or_path",
                   outcome.folder, "--task", plan.dataset, "--save_dir", str(save_dir), "--batch_size", "32",
                   *plan.data_flags, *reading]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            logger.warning("exact match of %s failed: %s", outcome.folder, done.stderr.strip().splitlines()[-1:])
            return None
    return json.loads(results.read_text(encoding="utf-8"))["accuracy"]


def run_compare(argv: list[str]) -> Path:
    """Train every method x seed, score, and write the report; the report folder."""
    from qllm.compare.report import write_report
    from qllm.data.registry import datasets_with_test_split

    plan, exact_match = plan_compare(argv)
    outcomes = [train_one(plan, method, seed) for method in plan.methods for seed in plan.seeds]
    scores: dict[str, float | None] = {}
    if exact_match == "yes" or (exact_match == "auto" and plan.dataset in datasets_with_test_split(plan.dataset_dir)):
        scores = {o.folder: score_one(plan, o) for o in outcomes if o.ok}
    return write_report(plan.report_dir, plan.methods, outcomes, scores, plan.train_argv, plan.reading_flags)
