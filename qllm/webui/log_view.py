"""What the monitor's log box shows: a run's console capture as a person reads it.

The console of a run interleaves tqdm redraws, the Trainer's metric dicts, library
warnings and our own step lines.  The box keeps the step lines and messages, turns the
end-of-run metric dict into one line, counts the warnings instead of printing them, and
keeps only the current progress bar; `console.log` itself is untouched and shown in full
one click away.
"""

from __future__ import annotations

import ast
import re

from qllm.webui.locales import text

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours and tqdm's cursor moves
PROGRESS_BAR = re.compile(r"(?:[^\s|][^|]*?: *)?\d{1,3}%\|[^|]*\|[^\]\n]*\]")  # "Tokenizing:  40%|████  | 4/10 [..]"
WARNING_START = re.compile(r"(Warning|warn)\b.*:|^\[?WARNING\b|^UserWarning")
# the lines Python's warnings module prints under a warning: the source line, or "warnings.warn("
WARNING_CONTINUATION = re.compile(r"^\s+\S")
METRICS_BLOCK = re.compile(r"^\*{5} \w+ metrics \*{5}$")  # transformers' Trainer.log_metrics
METRICS_BLOCK_LINE = re.compile(r"^\s+\w+\s+=\s")


def last_lines(console: str, count: int) -> str:
    """The last ``count`` lines of a console capture already read (a monitor reads console.log once per redraw)."""
    return "\n".join(console.splitlines()[-count:])


def log_cause(console: str, lang: str) -> str:
    """A failed job's last lines, as the monitors show them under "Cause"."""
    return f"{text('cause', lang)}:\n```\n{last_lines(console, 12)}\n```"


def failure_cause(console: str, lang: str) -> str:
    """Why a training run failed: its one-line `error: …` when it ended with one, else its last lines."""
    errors = [line for line in last_lines(console, 12).splitlines() if line.startswith("error: ")]
    return f"{text('error', lang)}: {errors[-1].removeprefix('error: ')}" if errors else log_cause(console, lang)


def _metric_dict(line: str) -> dict | None:
    """The Trainer's printed metrics (`{'loss': '6.9', ...}`) as a dict, or None for any other line."""
    if not (line.startswith("{'") and line.endswith("}")):
        return None
    try:
        value = ast.literal_eval(line)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, dict) else None


def readable_log(console: str, lines: int = 30, running: bool = True) -> str:
    """The last ``lines`` lines worth reading, a warning count, and (while ``running``) the current progress bar.

    The Trainer's "***** train metrics *****" blocks are left out: the end-of-run line and
    `done:` say the same.
    """
    kept: list[str] = []
    warnings = 0
    in_warning = in_metrics_block = False
    bar = ""
    for raw in ANSI_ESCAPE.sub("", console).replace("\r", "\n").split("\n"):
        bars = PROGRESS_BAR.findall(raw)
        if bars:
            bar = bars[-1].strip()
        line = PROGRESS_BAR.sub("", raw).strip() if bars else raw.rstrip()
        if not line.strip():
            continue
        if METRICS_BLOCK.match(line):
            in_metrics_block = True
            continue
        if in_metrics_block and METRICS_BLOCK_LINE.match(line):
            continue
        in_metrics_block = False
        if in_warning and WARNING_CONTINUATION.match(line):
            continue
        in_warning = bool(WARNING_START.search(line)) and "Traceback" not in line
        if in_warning:
            warnings += 1
            continue
        metrics = _metric_dict(line.strip())
        if metrics is not None:
            if "loss" in metrics or "eval_loss" in metrics:
                continue  # the step line above it already says this
            line = " · ".join(f"{key} {value}" for key, value in metrics.items())
        kept.append(line)
    shown = kept[-lines:]
    if warnings:
        shown.append(f"⚠ {warnings} warning{'s' if warnings > 1 else ''} (full text in console.log)")
    if bar and running:  # an ended run's last bar (the final evaluation's) is no progress to watch
        shown.append(bar)
    return "\n".join(shown)
