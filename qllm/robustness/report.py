"""The robustness sweep's report: a table (mean ± std over repeats) and the metrics against shots and noise.

`figure` is also what the board's Robustness section draws, so the command's chart and the
board's are one piece of code.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qllm.atomic import write_whole
from qllm.compare.report import COLORS, mean_std, mean_std_cell

METRIC_NAMES = {"eval_loss": "eval loss", "exact_match": "exact match (%)", "accuracy": "accuracy (%)"}


def summarize(state: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per setting (shots, noise, ablation), its metrics as mean/std/n over the repeats, in sweep order."""
    rows: dict[tuple, dict[str, Any]] = {}
    for entry in state.get("points", []):
        key = (entry["shots"], entry["noise"], entry["ablation"])
        row = rows.setdefault(key, {"shots": key[0], "noise": key[1], "ablation": key[2], "values": {}})
        for name, value in entry["metrics"].items():
            row["values"].setdefault(name, []).append(value)
    for row in rows.values():
        row["metrics"] = {name: mean_std(values) for name, values in row.pop("values").items()}
    return list(rows.values())


def reading(row: dict[str, Any]) -> str:
    """A row's reading in words: "exact", "1000 shots", "noise depolarizing=0.01", "ablation: mean"."""
    if row["ablation"] != "none":
        return f"ablation: {row['ablation']}"
    if row["shots"]:
        return f"{row['shots']} shots"
    return "exact" if row["noise"] == "0" else f"noise {row['noise']}"


SHORT_CHANNELS = {"depolarizing": "dep", "amplitude_damping": "amp", "readout": "ro"}


def noise_label(spec: str) -> str:
    """A noise model short enough for an axis tick: "ideal", "dep 0.01", "dep 0.01 + ro 0.02"."""
    if spec == "0":
        return "ideal"
    terms = [term.partition("=") for term in spec.split(",")]
    return " + ".join(f"{SHORT_CHANNELS.get(name, name)} {value}" for name, _, value in terms)


def noise_order(row: dict[str, Any]) -> tuple[bool, float]:
    """Depolarizing strengths alone first, weakest first; other noise models after them, in sweep order."""
    name, _, value = row["noise"].partition("=")
    alone = name == "depolarizing" and "," not in value
    return (not alone, float(value) if alone else 0.0)


def metric_names(rows: list[dict[str, Any]]) -> list[str]:
    """The metrics the rows carry, eval loss first (exact match of a small model is often flat at 0)."""
    names = list(dict.fromkeys(name for row in rows for name in row["metrics"]))
    return sorted(names, key=lambda name: name != "eval_loss")


def value_cell(value: dict[str, float] | None, digits: int) -> str:
    """mean ± std over repeats, or the value alone for a point scored once."""
    if value is not None and value["n"] == 1:
        return f"{value['mean']:.{digits}f}"
    return mean_std_cell(value, digits)


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a markdown table: the reading, its shots and noise, runs, each metric (mean ± std)."""
    names = metric_names(rows)
    lines = [
        "| reading | shots | noise | runs | " + " | ".join(METRIC_NAMES.get(n, n) for n in names) + " |",
        "|---|---:|---|---:|" + "---:|" * len(names),
    ]
    for row in rows:
        runs = max((row["metrics"][n]["n"] for n in names if row["metrics"].get(n)), default=0)
        cells = [value_cell(row["metrics"].get(name), 2 if name != "eval_loss" else 4) for name in names]
        lines.append(
            f"| {reading(row)} | {row['shots'] or 'exact'} | {row['noise']} | {runs} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def markdown(state: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    lines = [
        "# Robustness",
        "",
        f"`qllm robustness` — {state.get('adapter')} on {state.get('model')}, task {state.get('task')} "
        f"({state.get('split')} split). Each circuit's <Z_i> read exactly, from finite shots (mean ± std over "
        "seeds), on a noisy device (exact density matrices), or ablated (replaced by its mean over the evaluated "
        "tokens, or by zero, leaving the classical maps).",
        "",
    ]
    if state.get("eval_flags"):
        command = shlex.join(["qllm", "robustness", *state["eval_flags"], *state.get("sweep_flags", [])])
        lines += [f"`{command}`", ""]
    return "\n".join(lines) + "\n" + table(rows)


@dataclass
class Panel:
    """One metric's data for the two panels: the shot curve, the noise curve, and the horizontal lines."""

    metric: str
    shots: list[int]
    shot_mean: list[float]
    shot_std: list[float]
    noise: list[str]  # the noise models' axis labels in sweep order, the ideal one first
    noise_mean: list[float]
    lines: list[tuple[str, float]]  # ("exact" / "ablation: mean", value)

    @property
    def label(self) -> str:
        return METRIC_NAMES.get(self.metric, self.metric)


def panels(state: dict[str, Any]) -> list[Panel]:
    """Per metric (eval loss first), what the chart draws."""
    rows = summarize(state)
    out = []
    for name in metric_names(rows) or ["eval_loss"]:
        scored = [row for row in rows if row["metrics"].get(name)]
        exact = [r for r in scored if r["shots"] == 0 and r["noise"] == "0" and r["ablation"] == "none"]
        shots = sorted((r for r in scored if r["shots"] and r["noise"] == "0" and r["ablation"] == "none"),
                       key=lambda r: r["shots"])  # fmt: skip
        noise = exact + sorted(
            (r for r in scored if r["noise"] != "0" and not r["shots"] and r["ablation"] == "none"), key=noise_order
        )
        lines = [(reading(r), r["metrics"][name]["mean"]) for r in exact]
        lines += [(reading(r), r["metrics"][name]["mean"]) for r in scored if r["ablation"] != "none"]
        out.append(
            Panel(
                name,
                [r["shots"] for r in shots],
                [r["metrics"][name]["mean"] for r in shots],
                [r["metrics"][name]["std"] for r in shots],
                [noise_label(r["noise"]) for r in noise],
                [r["metrics"][name]["mean"] for r in noise],
                lines,
            )
        )
    return out


def level_span(shots: list[int]) -> list[float]:
    """Where a level line runs on the (log) shots axis: a little past the shot counts on both sides."""
    return [min(shots) / 1.5, max(shots) * 1.5] if shots else []


def _line_style(label: str, index: int) -> tuple[str, str]:
    """(dash, color) of a horizontal line: the exact reading dashed grey, each ablation dotted in its color."""
    return ("dash", "#444444") if label == "exact" else ("dot", COLORS[3 + index])


def figure(state: dict[str, Any]):
    """Plotly figure: per metric, the metric against shots (log axis, mean with a ± std band over repeats) and
    against noise (the ideal device first); the exact reading and each ablation as level lines across both."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    drawn = panels(state)
    titles = [f"{panel.label} {side}" for panel in drawn for side in ("vs shots", "vs noise")]
    fig = make_subplots(rows=len(drawn), cols=2, subplot_titles=titles, horizontal_spacing=0.12)
    for row, panel in enumerate(drawn, 1):
        first = row == 1  # one legend entry per line: the panels of every metric share its color
        for index, (label, value) in enumerate(panel.lines):  # as traces: the board's plot keeps traces, not shapes
            dash, color = _line_style(label, index)
            for col, x in ((1, level_span(panel.shots)), (2, panel.noise)):
                if x:
                    line = go.Scatter(x=x, y=[value] * len(x), mode="lines", name=label, legendgroup=label,
                                      line={"dash": dash, "color": color}, showlegend=first and col == 1)  # fmt: skip
                    fig.add_trace(line, row=row, col=col)
        if panel.shots:
            curve = go.Scatter(x=panel.shots, y=panel.shot_mean, error_y={"type": "data", "array": panel.shot_std},
                               mode="lines+markers", name="shots (mean ± std over seeds)", legendgroup="shots",
                               line={"color": COLORS[0]}, showlegend=first)  # fmt: skip
            fig.add_trace(curve, row=row, col=1)
        if panel.noise:  # markers, not a line: the models on this axis need not be one family; the ideal one first
            curve = go.Scatter(x=panel.noise, y=panel.noise_mean, mode="markers", name="noise",
                               legendgroup="noise", line={"color": COLORS[1]}, showlegend=first)  # fmt: skip
            fig.add_trace(curve, row=row, col=2)
        fig.update_xaxes(type="log", title_text="shots per circuit evaluation", row=row, col=1)
        fig.update_xaxes(type="category", title_text="noise model", row=row, col=2)
        fig.update_yaxes(title_text=panel.label, row=row, col=1)
    title = f"Robustness of {Path(state.get('adapter') or 'the adapter').name} on {state.get('task', '')}"
    fig.update_layout(title=title, height=320 * len(drawn) + 80, legend={"orientation": "h"})
    return fig


def _write_png(path: Path, state: dict[str, Any]) -> None:
    """The same panels with matplotlib (a png needs no browser)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = panels(state)
    fig, axes = plt.subplots(len(drawn), 2, figsize=(10, 3.4 * len(drawn)), dpi=100, squeeze=False)
    for (by_shots, by_noise), panel in zip(axes, drawn):
        for index, (label, value) in enumerate(panel.lines):
            dash, color = _line_style(label, index)
            for ax in (by_shots, by_noise):
                ax.axhline(value, linestyle="--" if dash == "dash" else ":", color=color, label=label)
        if panel.shots:
            by_shots.errorbar(panel.shots, panel.shot_mean, yerr=panel.shot_std, fmt="o-", color=COLORS[0],
                              capsize=3, label="shots (mean ± std over seeds)")  # fmt: skip
            by_shots.set_xscale("log")
        if panel.noise:
            by_noise.plot(panel.noise, panel.noise_mean, "o", color=COLORS[1], label="noise")
            by_noise.tick_params(axis="x", labelrotation=20)
        for ax, side, axis in ((by_shots, "shots", "shots per circuit evaluation"), (by_noise, "noise", "noise model")):
            ax.set_title(f"{panel.label} vs {side}")
            ax.set_xlabel(axis)
            ax.set_ylabel(panel.label)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def write_report(folder: Path, state: dict[str, Any]) -> None:
    """robustness.md / .png / .html beside the sweep's robustness.json."""
    rows = summarize(state)
    write_whole(folder / "robustness.md", markdown(state, rows))
    partial = folder / ".robustness.png.partial.png"
    _write_png(partial, state)
    partial.replace(folder / "robustness.png")
    write_whole(folder / "robustness.html", figure(state).to_html(include_plotlyjs=True))
