"""`training_loss.png`: the loss curve (raw and smoothed) with eval losses, from `trainer_log.jsonl`."""

from __future__ import annotations

from pathlib import Path

from qllm.constants import PLOT_FILE
from qllm.train.log_file import loss_series, read_log, smooth


def plot_loss(output_dir: str | Path) -> Path | None:
    """Write the figure next to the log; None when the run logged no loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_log(output_dir)
    steps, losses = loss_series(records, "loss")
    if not steps:
        return None
    eval_steps, eval_losses = loss_series(records, "eval_loss")
    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    axes.plot(steps, losses, color="#1f77b4", alpha=0.35, label="loss")
    axes.plot(steps, smooth(losses), color="#1f77b4", label="loss (smoothed)")
    if eval_steps:
        axes.plot(eval_steps, eval_losses, "o-", color="#d62728", label="eval loss")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(f"training loss of {Path(output_dir).name}")
    axes.legend()
    axes.grid(alpha=0.3)
    path = Path(output_dir) / PLOT_FILE
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)
    return path
