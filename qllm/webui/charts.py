"""Plotly figures drawn from `trainer_log.jsonl` files (the only source the board charts from)."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from qllm.compare.report import COLORS, band_traces
from qllm.train.log_file import loss_series, read_log, smooth


def _layout(figure: go.Figure, title: str) -> go.Figure:
    """Shared looks: steps are whole numbers, losses three decimals, the background the page's own."""
    figure.update_layout(
        title=title,
        xaxis={"title": "step", "tickformat": "d", "minallowed": 0},
        yaxis={"title": "loss", "tickformat": ".3~f"},
        hovermode="x unified",
        height=360,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        paper_bgcolor="rgba(0,0,0,0)",  # the page's background shows through: light or dark theme alike
        plot_bgcolor="rgba(0,0,0,0)",
    )
    steps = [x for trace in figure.data for x in (trace.x or ())]
    if steps and max(steps) - min(steps) < 10:  # a few steps: one tick per step, never half steps
        figure.update_xaxes(dtick=1)
    return figure


def loss_figure(output_dir: str | Path, title: str = "") -> go.Figure:
    """Raw loss, its smoothed curve and eval loss points of one run (empty axes before the first log)."""
    records = read_log(output_dir)
    steps, losses = loss_series(records, "loss")
    eval_steps, eval_losses = loss_series(records, "eval_loss")
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=losses,
            name="loss",
            mode="lines+markers",
            opacity=0.4,
            line={"color": COLORS[0]},
            hovertemplate="step %{x}<br>loss %{y:.4f}",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=smooth(losses),
            name="smoothed",
            mode="lines",
            line={"color": COLORS[0], "width": 3},
            hovertemplate="step %{x}<br>smoothed %{y:.4f}",
        )
    )
    if eval_steps:
        figure.add_trace(
            go.Scatter(
                x=eval_steps,
                y=eval_losses,
                name="eval loss",
                mode="markers+lines",
                marker={"size": 9, "color": COLORS[1]},
                hovertemplate="step %{x}<br>eval %{y:.4f}",
            )
        )
    return _layout(figure, title or Path(output_dir).name)


def compare_figure(runs: dict[str, str | Path]) -> go.Figure:
    """Runs labelled `method/run`: a method with several chosen runs (seeds of one comparison) is drawn as
    its mean loss with a min-max band; a method with one run as that run's smoothed loss (eval dotted)."""
    by_method: dict[str, dict[str, str | Path]] = {}
    for label, output_dir in runs.items():
        by_method.setdefault(label.split("/")[0], {})[label] = output_dir
    figure = go.Figure()
    for index, (method, group) in enumerate(by_method.items()):
        color = COLORS[index % len(COLORS)]
        if len(group) > 1:
            for trace in band_traces(method, list(group.values()), color):
                figure.add_trace(trace)
            continue
        label, output_dir = next(iter(group.items()))
        records = read_log(output_dir)
        steps, losses = loss_series(records, "loss")
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=smooth(losses),
                name=label,
                mode="lines",
                line={"color": color},
                hovertemplate=f"{label}<br>step %{{x}}<br>loss %{{y:.4f}}",
            )
        )
        eval_steps, eval_losses = loss_series(records, "eval_loss")
        if eval_steps:
            figure.add_trace(
                go.Scatter(
                    x=eval_steps,
                    y=eval_losses,
                    name=f"{label} (eval)",
                    mode="markers+lines",
                    line={"color": color, "dash": "dot"},
                    hovertemplate=f"{label}<br>step %{{x}}<br>eval %{{y:.4f}}",
                )
            )
    return _layout(figure, "loss by run")
