"""The comparison's report: per method, mean ± std over seeds, and the loss curves as a mean with a min-max band.

`band_traces` is also what the board's Compare draws when several runs of one method are
chosen, so the command's figure and the board's are one piece of code.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from qllm.constants import FINISHED_MARKER
from qllm.train.log_file import loss_series, read_log

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def band(folders: list[Path | str], key: str) -> tuple[list[int], list[float], list[float], list[float]]:
    """(steps, mean, min, max) of one logged value over runs, on the steps every run logged."""
    series = [dict(zip(*loss_series(read_log(folder), key))) for folder in folders]
    series = [s for s in series if s]
    if not series:
        return [], [], [], []
    steps = sorted(set.intersection(*(set(s) for s in series)))
    values = [[s[step] for s in series] for step in steps]
    return steps, [statistics.fmean(v) for v in values], [min(v) for v in values], [max(v) for v in values]


# hovermode "x unified": the step heads the hover box and each trace's name leads its line, so a trace
# adds only its value (repeating name or step gave "loss : step 20 loss 4.8653")
HOVER_VALUE = "%{y:.4f}"


def band_traces(label: str, folders: list[Path | str], color: str) -> list:
    """Plotly traces: the mean training loss with its min-max band, and the mean eval loss, over ``folders``."""
    import plotly.graph_objects as go

    traces = []
    steps, mean, low, high = band(folders, "loss")
    if steps:
        traces += [
            go.Scatter(x=steps, y=high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"),
            go.Scatter(
                x=steps,
                y=low,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                opacity=0.2,
                fillcolor=_transparent(color),
                showlegend=False,
                hoverinfo="skip",
            ),  # fmt: skip
            go.Scatter(
                x=steps,
                y=mean,
                mode="lines",
                name=f"{label} (mean of {len(folders)})",
                line={"color": color},
                hovertemplate=HOVER_VALUE,
            ),  # fmt: skip
        ]
    steps, mean, _, _ = band(folders, "eval_loss")
    if steps:
        traces.append(go.Scatter(x=steps, y=mean, mode="markers+lines", name=f"{label} eval (mean)",
                                 line={"color": color, "dash": "dot"}, hovertemplate=HOVER_VALUE))  # fmt: skip
    return traces


def _transparent(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},0.2)"


def mean_std(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def run_numbers(folder: Path | str, exact_match: float | None) -> dict[str, Any]:
    records = read_log(folder)
    _, losses = loss_series(records, "loss")
    _, evals = loss_series(records, "eval_loss")
    finished = Path(folder) / FINISHED_MARKER
    results = json.loads(finished.read_text(encoding="utf-8")) if finished.is_file() else {}
    last = lambda key: next((r[key] for r in reversed(records) if r.get(key) is not None), None)  # noqa: E731
    return {
        "final_loss": losses[-1] if losses else None,
        "best_loss": min(losses) if losses else None,
        "final_eval_loss": evals[-1] if evals else None,
        "best_eval_loss": min(evals) if evals else None,
        "exact_match": exact_match,
        "tokens_per_second": last("tokens_per_second"),
        "peak_memory_mb": last("peak_memory_mb"),
        "wall_time_s": results.get("train_runtime"),
        "trainable_params": results.get("trainable_params"),
    }


def summarize(methods: list[str], outcomes: list, scores: dict[str, float | None]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for method in methods:
        runs = [o for o in outcomes if o.method == method]
        per_seed = {o.seed: run_numbers(o.folder, scores.get(o.folder)) for o in runs if o.ok}
        numbers = list(per_seed.values())
        entry: dict[str, Any] = {
            "seeds": [o.seed for o in runs],
            "failed": [{"seed": o.seed, "cause": o.cause} for o in runs if not o.ok],
            "trainable_params": next((n["trainable_params"] for n in numbers if n["trainable_params"]), None),
        }
        for key in ("final_loss", "best_loss", "final_eval_loss", "best_eval_loss", "exact_match",
                    "tokens_per_second", "peak_memory_mb", "wall_time_s"):  # fmt: skip
            entry[key] = mean_std([n[key] for n in numbers if n[key] is not None])
        entry["runs"] = {str(seed): values for seed, values in per_seed.items()}  # each seed's own numbers
        summary[method] = entry
    return summary


def mean_std_cell(value: dict[str, float] | None, digits: int, scale: float = 1.0) -> str:
    if value is None:
        return ""
    return f"{scale * value['mean']:.{digits}f} ± {scale * value['std']:.{digits}f}"


def markdown(summary: dict[str, Any], train_argv: list[str], reading_flags: list[str] = ()) -> str:
    seeds = max((len(entry["seeds"]) for entry in summary.values()), default=0)
    lines = [
        "# Comparison",
        "",
        f"`qllm compare` — {seeds} seed(s) per method, the same data, schedule and budget: `{' '.join(train_argv)}`.",
        "Mean ± standard deviation over the seeds that finished."
        + (
            f" Exact match of vqc / tq runs scored with their circuits read as `{' '.join(reading_flags)}`."
            if reading_flags
            else ""
        ),
        "",
        "| method | trainable params | final train loss | best train loss | final eval loss | best eval loss "
        "| exact match (%) | tokens/s | peak memory MB | wall time (s) | runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for method, entry in summary.items():
        failed = entry["failed"]
        state = f"{len(entry['seeds']) - len(failed)}/{len(entry['seeds'])} finished"
        if failed:
            state += "; failed: " + "; ".join(f"seed {f['seed']}: {f['cause'][:120]}" for f in failed)
        params = f"{entry['trainable_params']:,}" if entry["trainable_params"] else ""
        lines.append(
            f"| {method} | {params} | {mean_std_cell(entry['final_loss'], 3)} | {mean_std_cell(entry['best_loss'], 3)} "
            f"| {mean_std_cell(entry['final_eval_loss'], 3)} | {mean_std_cell(entry['best_eval_loss'], 3)} "
            f"| {mean_std_cell(entry['exact_match'], 1, 100)} | {mean_std_cell(entry['tokens_per_second'], 0)} "
            f"| {mean_std_cell(entry['peak_memory_mb'], 0)} | {mean_std_cell(entry['wall_time_s'], 1)} | {state} |"
        )
    return "\n".join(lines) + "\n"


def write_report(
    folder: Path, methods: list[str], outcomes: list, scores: dict, train_argv: list[str], reading_flags: list[str] = ()
) -> Path:
    """compare.md / .json / .html / .png in ``folder``."""
    import plotly.graph_objects as go

    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(methods, outcomes, scores)
    runs = {m: [o.folder for o in outcomes if o.method == m and o.ok] for m in methods}
    (folder / "compare.json").write_text(
        json.dumps(
            {"train_flags": train_argv, "reading_flags": list(reading_flags), "methods": summary, "runs": runs},
            indent=1,
        ),
        encoding="utf-8",
    )
    (folder / "compare.md").write_text(markdown(summary, train_argv, reading_flags), encoding="utf-8")
    figure = go.Figure()
    for index, (method, folders) in enumerate(runs.items()):
        for trace in band_traces(method, folders, COLORS[index % len(COLORS)]):
            figure.add_trace(trace)
    figure.update_layout(title="training loss by method: mean over seeds, min-max band", xaxis_title="step",
                         yaxis_title="loss", hovermode="x unified")  # fmt: skip
    figure.write_html(folder / "compare.html", include_plotlyjs=True)
    _write_png(folder / "compare.png", runs)
    return folder


def _write_png(path: Path, runs: dict[str, list[str]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    for index, (method, folders) in enumerate(runs.items()):
        color = COLORS[index % len(COLORS)]
        steps, mean, low, high = band(folders, "loss")
        if steps:
            axes.fill_between(steps, low, high, color=color, alpha=0.2, linewidth=0)
            axes.plot(steps, mean, color=color, label=f"{method} (mean of {len(folders)})")
        steps, mean, _, _ = band(folders, "eval_loss")
        if steps:
            axes.plot(steps, mean, "o--", color=color, markersize=3, label=f"{method} eval")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title("training loss by method: mean over seeds, min-max band")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)
