"""Plotly figures drawn from `trainer_log.jsonl` files (the only source the board charts from)."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from qllm.train.log_file import loss_series, read_log, smooth

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _layout(figure: go.Figure, title: str) -> go.Figure:
    figure.update_layout(
        title=title,
        xaxis_title="step",
        yaxis_title="loss",
        hovermode="x unified",
        height=360,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
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
    """Smoothed loss of several runs overlaid (eval losses dotted), labelled by run."""
    figure = go.Figure()
    for index, (label, output_dir) in enumerate(runs.items()):
        color = COLORS[index % len(COLORS)]
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
