"""`qllm robustness`: one adapter scored at every reading of its circuits, in one table and one chart.

    qllm robustness --model_name_or_path qllm-tiny --adapter_name_or_path DIR --task qllm_tasks \
        --shots 0,10000,1000,100 --noise 0,0.001,0.01 --ablation none,mean --repeats 3

The points: the exact reading (the reference; it also records each circuit's mean <Z> for a
mean ablation), each shot count at no noise (``--repeats`` seeds each, as shots are random),
each noise model with exact expectations (deterministic, once), each ablation (once).  Every
point is scored as `qllm eval` scores (`eval.workflow.score`) on a model loaded once.

``--noise`` lists noise models separated by ``;`` (``0;depolarizing=0.001,readout=0.02``);
a list of bare depolarizing strengths may use commas (``0,0.001,0.01``).

Resumable like `qllm compare`: each finished point is kept in robustness.json as it ends; a
rerun with the same eval flags scores only the points still missing.  The report
(robustness.md, .png, .html, and the .json) goes to ``--save_dir``, by default
``<adapter>/eval/robustness-<task>``.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qllm.atomic import write_whole
from qllm.circuit.device import ABLATIONS, parse_noise
from qllm.constants import EVALUATIONS_FOLDER
from qllm.errors import ArgumentError
from qllm.hparams.command_parser import CommandParser

logger = logging.getLogger(__name__)

STATE_FILE = "robustness.json"
REPORT_FILES = ("robustness.md", "robustness.png", "robustness.html", STATE_FILE)
SWEEP_FLAGS = ("shots", "noise", "ablation", "repeats", "seed", "save_dir")
MEASUREMENT_FLAGS = ("shots", "noise", "circuit_ablation")  # `qllm eval`'s single-reading flags: the sweep sets them


@dataclass(frozen=True)
class Point:
    """One reading of the circuits, scored once."""

    shots: int
    noise: str  # the NoiseModel's spec, "0" for none
    ablation: str
    repeat: int
    seed: int

    @property
    def setting(self) -> tuple[int, str, str]:
        """What the repeats of a point share."""
        return self.shots, self.noise, self.ablation


EXACT = Point(0, "0", "none", 0, 0)  # the reference, and the mean <Z> of a mean ablation


def _parser() -> CommandParser:
    parser = CommandParser(
        prog="qllm robustness",
        description="Score a vqc / tq adapter at every reading of its circuits. Every other flag is qllm eval's "
        "(--model_name_or_path, --adapter_name_or_path, --task, --template, --batch_size, ...).",
    )
    parser.add_argument("--shots", default="0,10000,1000,100", help="shot counts, comma-separated (0: exact)")
    parser.add_argument("--noise", default="0,0.001,0.01", help="noise models, ';'-separated (bare numbers: commas)")
    parser.add_argument("--ablation", default="none,mean", help=f"circuit ablations among {', '.join(ABLATIONS)}")
    parser.add_argument("--repeats", type=int, default=3, help="seeds per shot count")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first repeat")
    parser.add_argument(
        "--save_dir", default=None, help="folder of the report (default: <adapter>/eval/robustness-<task>)"
    )
    return parser


def shot_counts(text: str) -> list[int]:
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise ArgumentError(
            "shots", f"a comma list of whole numbers of shots, 0 for exact, e.g. 0,1000,100 (got '{text}')"
        )
    return list(dict.fromkeys(int(part) for part in parts))


def noise_specs(text: str) -> list[str]:
    """The noise models of ``--noise``: separated by ';', or a comma list of bare depolarizing strengths;
    with '=' and no ';' the text is one model (its channels separated by commas)."""
    items = str(text).split(";") if ";" in str(text) or "=" in str(text) else str(text).split(",")
    try:
        specs = [parse_noise(item).spec() for item in items if item.strip()]
    except ArgumentError as err:
        if ";" in str(text) or "," not in str(text):
            raise
        hint = f"{err.message}; to sweep several noise models, separate them with ';' (e.g. 0;depolarizing=0.05)"
        raise ArgumentError("noise", hint) from None
    if not specs:
        raise ArgumentError("noise", "name at least one noise model, e.g. 0,0.001,0.01")
    return list(dict.fromkeys(specs))


def ablations(text: str) -> list[str]:
    names = [part.strip() for part in str(text).split(",") if part.strip()]
    unknown = [name for name in names if name not in ABLATIONS]
    if unknown or not names:
        raise ArgumentError("ablation", f"choose among {', '.join(ABLATIONS)} (got '{text}')")
    return list(dict.fromkeys(names))


def plan_points(shots: list[int], noises: list[str], ablation: list[str], repeats: int, seed: int) -> list[Point]:
    """The exact reading first; only shot points are random, so only they repeat and carry a seed."""
    points = [EXACT]
    points += [Point(count, "0", "none", k, seed + k) for count in shots if count > 0 for k in range(repeats)]
    points += [Point(0, spec, "none", 0, 0) for spec in noises if spec != "0"]
    points += [Point(0, "0", name, 0, 0) for name in ablation if name != "none"]
    return points


@dataclass
class SweepPlan:
    points: list[Point]
    eval_argv: list[str]  # the `qllm eval` flags every point shares
    save_dir: Path
    sweep_argv: list[str]  # the sweep's own flags, as the report quotes them


def eval_flags(values: dict[str, Any]) -> list[str]:
    """The `qllm eval` flags of a sweep's settings: what its robustness.json records, and a resume must match."""
    from qllm.hparams.parser import eval_argv

    return eval_argv({key: value for key, value in values.items() if key not in SWEEP_FLAGS})


def config_argv(values: dict[str, Any]) -> list[str]:
    """A sweep's settings as the command's flags (the board writes them to a file): its own, then `qllm eval`'s."""
    own = [token for name in SWEEP_FLAGS if values.get(name) is not None for token in (f"--{name}", str(values[name]))]
    return own + eval_flags(values)


def plan_sweep(argv: list[str]) -> SweepPlan:
    """Every flag checked, nothing written: the points, the shared eval flags and the report folder."""
    from qllm.hparams.parser import CONFIG_SUFFIXES, get_eval_args, read_config_file

    if argv and argv[0].endswith(CONFIG_SUFFIXES) and not argv[0].startswith("-"):
        argv = config_argv(read_config_file(argv[0])) + argv[1:]
    options, eval_argv = _parser().parse_known_args(argv)
    for token in eval_argv:
        name = token.lstrip("-").split("=")[0]
        if token.startswith("--") and name in MEASUREMENT_FLAGS:
            raise ArgumentError(
                name, "the sweep sets each point's reading; list values in --shots / --noise / --ablation"
            )
    if options.repeats < 1:
        raise ArgumentError("repeats", f"at least 1 seed per shot count (got {options.repeats})")
    points = plan_points(
        shot_counts(options.shots),
        noise_specs(options.noise),
        ablations(options.ablation),
        options.repeats,
        options.seed,
    )
    model_args, _, eval_args, _, measurement_args = get_eval_args(eval_argv)
    if not model_args.adapter_name_or_path:
        raise ArgumentError("adapter_name_or_path", "name the vqc / tq adapter folder whose circuits to read")
    from qllm.model.inference import adapter_methods

    measurement_args.shots = 1  # stands for the sweep's readings: they need a circuit
    measurement_args.check_methods(adapter_methods(model_args))
    adapter = Path(model_args.adapter_paths[-1])
    save_dir = (
        Path(options.save_dir) if options.save_dir else adapter / EVALUATIONS_FOLDER / f"robustness-{eval_args.task}"
    )
    if save_dir.exists() and not save_dir.is_dir():
        raise ArgumentError("save_dir", f"'{save_dir}' is a file; name a folder")
    _check_earlier_sweep(save_dir, eval_argv)
    sweep_argv = [token for name in SWEEP_FLAGS[:-1] for token in (f"--{name}", str(getattr(options, name)))]
    return SweepPlan(points, eval_argv, save_dir, sweep_argv)


def read_state(save_dir: Path) -> dict[str, Any] | None:
    """The sweep's robustness.json, or None when there is none."""
    path = save_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise ArgumentError("save_dir", f"'{path}' is not a sweep's file; choose another --save_dir") from None


def _check_earlier_sweep(save_dir: Path, eval_argv: list[str]) -> None:
    """A folder may hold this sweep's earlier points, or nothing of ours; never another sweep's or another file."""
    state = read_state(save_dir)
    if state is not None and state.get("eval_flags") != eval_argv:
        raise ArgumentError(
            "save_dir",
            f"'{save_dir}' holds a sweep with other eval flags ({' '.join(state.get('eval_flags', []))}); "
            "choose another --save_dir",
        )
    if state is None:
        there = [save_dir / name for name in REPORT_FILES if (save_dir / name).exists()]
        if there:
            raise ArgumentError(
                "save_dir", f"'{there[0]}' is there already and is not a sweep's; choose another --save_dir"
            )


def metrics_of(scored: dict[str, Any], kind: str) -> dict[str, float]:
    """The numbers a point is compared by: exact match and eval loss, or multiple-choice accuracy."""
    if kind == "exact_match":
        return {"exact_match": 100 * scored["accuracy"], "eval_loss": scored["eval_loss"]}
    return {"accuracy": scored["categories"]["Average"]}


def run_robustness(argv: list[str]) -> Path:
    """Score every point not scored before, keep each as it ends, and write the report; the report folder."""
    import torch

    from qllm.adapters.circuit.measurement import Measurement
    from qllm.eval.workflow import prepare_eval, score
    from qllm.robustness.report import write_report

    plan = plan_sweep(argv)
    state = read_state(plan.save_dir) or {"eval_flags": plan.eval_argv, "points": [], "means": {}}
    kept = state["points"] + state.get("other_points", [])
    done = {Point(**{k: entry[k] for k in Point.__dataclass_fields__}): entry for entry in kept}
    missing = [point for point in plan.points if point not in done]
    if any(point.ablation == "mean" for point in missing) and not state["means"] and EXACT not in missing:
        missing.insert(0, EXACT)  # an earlier exact point left no means: record them again

    state["sweep_flags"] = plan.sweep_argv  # the latest grid asked for

    def save() -> None:
        """The plan's points in its order (what the report shows); points of an earlier, other grid are kept apart,
        for a later sweep that asks for them again."""
        plan.save_dir.mkdir(parents=True, exist_ok=True)
        state["points"] = [done[p] for p in plan.points if p in done]
        state["other_points"] = [entry for point, entry in done.items() if point not in plan.points]
        write_whole(plan.save_dir / STATE_FILE, json.dumps(state, indent=1))

    if missing:
        model_args, data_args, eval_args, _, task, loaded = prepare_eval(plan.eval_argv)
        state.update(task=task.name, kind=task.kind, split=eval_args.split, model=model_args.model_name_or_path,
                     adapter=model_args.adapter_name_or_path)  # fmt: skip
        for point in missing:
            means = {name: torch.tensor(values) for name, values in state["means"].items()}
            record = point == EXACT
            measurement = Measurement(point.shots, parse_noise(point.noise), point.ablation, point.seed, record, means)
            started = time.perf_counter()
            scored, table = score(loaded, task, eval_args, data_args, measurement)
            done[point] = {**asdict(point), "metrics": metrics_of(scored, task.kind),
                           "seconds": round(time.perf_counter() - started, 2)}  # fmt: skip
            if record:
                state["means"] = {name: mean.tolist() for name, mean in measurement.recorded_means().items()}
            save()
            scored_so_far = sum(p in done for p in plan.points)  # earlier points of this grid count: a resume goes on
            logger.info("point %d/%d: %s", scored_so_far, len(plan.points), table)
    save()
    write_report(plan.save_dir, state)
    return plan.save_dir
