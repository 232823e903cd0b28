"""Plotly figures drawn from a run's `trainer_log.jsonl` (losses) and, for vqc / tq, its `circuit_log.jsonl`."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import yaml

from qllm.compare.report import COLORS, HOVER_VALUE, band_traces
from qllm.constants import TRAIN_ARGS
from qllm.train.log_file import loss_series, read_circuit_log, read_log, smooth
from qllm.webui.locales import text


def _layout(figure: go.Figure, title: str, lang: str) -> go.Figure:
    """Shared looks: steps are whole numbers, losses three decimals, the background the page's own."""
    figure.update_layout(
        title=title,
        xaxis={"title": text("chart_step", lang), "tickformat": "d", "minallowed": 0},
        yaxis={"title": text("chart_loss", lang), "tickformat": ".3~f"},
        hovermode="x unified",
        height=320,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        paper_bgcolor="rgba(0,0,0,0)",  # the page's background shows through: light or dark theme alike
        plot_bgcolor="rgba(0,0,0,0)",
    )
    steps = [x for trace in figure.data for x in (trace.x or ())]
    if steps and max(steps) - min(steps) < 10:  # a few steps: one tick per step, never half steps
        figure.update_xaxes(dtick=1)
    return figure


def keep_zoom(figure: go.Figure, zoom: str | None) -> go.Figure:
    """Apply the axis ranges the person zoomed to (JSON {"x": [a, b], "y": [c, d]}, either axis optional).

    gradio draws each update as a new plot element, so plotly's own uirevision cannot keep a
    zoom; the page reports the zoom (interface.ZOOM_JS) and every redraw starts from it.
    """
    try:
        ranges = json.loads(zoom) if zoom else {}
    except json.JSONDecodeError:
        return figure
    for axis in ("x", "y"):
        value = ranges.get(axis) if isinstance(ranges, dict) else None
        if isinstance(value, list) and len(value) == 2:
            figure.update_layout({f"{axis}axis": {"range": value, "autorange": False}})
    return figure


def loss_figure(output_dir: str | Path, lang: str = "en") -> go.Figure:
    """Raw loss, its smoothed curve and eval loss points of one run (empty axes before the first log)."""
    records = read_log(output_dir)
    steps, losses = loss_series(records, "loss")
    eval_steps, eval_losses = loss_series(records, "eval_loss")
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=losses,
            name=text("chart_loss", lang),
            mode="lines+markers",
            opacity=0.4,
            line={"color": COLORS[0]},
            hovertemplate=HOVER_VALUE,
        )
    )
    figure.add_trace(
        go.Scatter(
            x=steps,
            y=smooth(losses),
            name=text("chart_smoothed", lang),
            mode="lines",
            line={"color": COLORS[0], "width": 3},
            hovertemplate=HOVER_VALUE,
        )
    )
    if eval_steps:
        figure.add_trace(
            go.Scatter(
                x=eval_steps,
                y=eval_losses,
                name=text("chart_eval_loss", lang),
                mode="markers+lines",
                marker={"size": 9, "color": COLORS[1]},
                hovertemplate=HOVER_VALUE,
            )
        )
    _layout(figure, Path(output_dir).name, lang)
    if not steps:  # a run that has not logged yet (or never did): say so instead of showing bare axes
        figure.add_annotation(text=text("chart_no_steps", lang), showarrow=False, font={"size": 15})
        figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
        figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return figure


SEED_ONLY = {"seed", "data_seed", "output_dir", "logging_dir", "run_name", "overwrite_output_dir", "resume_finished"}


def settings_key(label: str, output_dir: str | Path) -> str:
    """What makes runs seeds of one experiment: the same method and train_args.yaml apart from seed and place.

    A run without readable arguments is a group of its own.
    """
    try:
        values = yaml.safe_load((Path(output_dir) / TRAIN_ARGS).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return label
    if not isinstance(values, dict):
        return label
    kept = {key: value for key, value in values.items() if key not in SEED_ONLY}
    return label.split("/")[0] + json.dumps(kept, sort_keys=True, default=str)


def compare_figure(runs: dict[str, str | Path], lang: str = "en") -> go.Figure:
    """Runs labelled `method/run`: runs whose settings differ only in their seed (seeds of one comparison)
    are drawn as their mean loss with a min-max band; any other run as its smoothed loss (eval dotted)."""
    by_settings: dict[str, dict[str, str | Path]] = {}
    for label, output_dir in runs.items():
        by_settings.setdefault(settings_key(label, output_dir), {})[label] = output_dir
    figure = go.Figure()
    for index, group in enumerate(by_settings.values()):
        color = COLORS[index % len(COLORS)]
        if len(group) > 1:
            for trace in band_traces(next(iter(group)).split("/")[0], list(group.values()), color):
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
                hovertemplate=HOVER_VALUE,
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
                    hovertemplate=HOVER_VALUE,
                )
            )
    return _layout(figure, text("chart_by_run", lang), lang)


GRADIENT_KEYS = ("A", "Q", "C", "B")  # the classical maps whose gradient norms stand beside the circuit's


def circuit_figure(output_dir: str | Path, lang: str = "en") -> go.Figure:
    """ "Inside the adapter" of a vqc / tq run, from `circuit_log.jsonl` (means over the adapted modules):
    readout strength and entanglement, the angles' drift from their start, and gradient norms, circuit
    against the classical maps (log scale)."""
    from plotly.subplots import make_subplots

    records = read_circuit_log(output_dir)
    steps = [r["step"] for r in records]
    means = [r["mean"] for r in records]
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[text(key, lang) for key in ("chart_readout", "chart_drift", "chart_gradients")],
    )

    def line(values, name: str, row: int, color: str, dash: str | None = None) -> None:
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=values,
                name=name,
                mode="lines+markers",
                line={"color": color, "dash": dash},
                marker={"size": 4},
                hovertemplate="%{y:.4g}",
                legendgroup=str(row),
            ),  # fmt: skip
            row=row,
            col=1,
        )

    readout = [sum(m["mean_abs_z"]) / len(m["mean_abs_z"]) if m.get("mean_abs_z") else None for m in means]
    line(readout, text("chart_mean_abs_z", lang), 1, COLORS[0])
    line([m.get("entanglement") for m in means], text("chart_entanglement", lang), 1, COLORS[1])
    line([m.get("angle_drift") for m in means], text("chart_angle_drift", lang), 2, COLORS[2])
    line([m.get("grad_norm_circuit") for m in means], text("chart_grad_circuit", lang), 3, COLORS[3])
    for index, key in enumerate(GRADIENT_KEYS):
        norms = [(m.get("grad_norm_classical") or {}).get(key) for m in means]
        shown = text(f"chart_map_{key}", lang)
        line([value if value else None for value in norms], shown, 3, COLORS[(4 + index) % len(COLORS)], "dot")
    figure.update_yaxes(range=[0, 1], row=1, col=1)  # both are fractions: the whole scale, so changes read true
    figure.update_yaxes(type="log", exponentformat="e", row=3, col=1)
    figure.update_xaxes(title_text=text("chart_step", lang), tickformat="d", row=3, col=1)
    figure.update_layout(
        title=f"{text('chart_inside', lang)} · {Path(output_dir).name}",
        height=560,
        margin={"l": 50, "r": 20, "t": 70, "b": 40},
        hovermode="x unified",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
    )
    if not steps:
        figure.add_annotation(text=text("chart_no_steps", lang), showarrow=False, font={"size": 15}, row=2, col=1)
    return figure
