"""One watcher for the Runner's jobs, shared by the Train, Evaluate and Export tabs.

Each tab's timer asks its `RunMonitor` every two seconds.  The monitor says "nothing changed"
(None) when the job's folder, status, queue and watched files are as the page last drew them
(so an idle tick reads no file and sends nothing to the browser), and otherwise hands the tab
one `JobView`: the job's state, its console read once, and what a failed job's cause is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qllm.webui.locales import LANGUAGES
from qllm.webui.log_view import failure_cause, readable_log
from qllm.webui.runner import Runner, RunState


def file_mtime(path: Path) -> float | None:
    """When the file last changed (None while it does not exist): how the monitors see that a run moved on."""
    return path.stat().st_mtime if path.is_file() else None


@dataclass
class JobView:
    """What a tab draws from, read once per redraw: the job (None when there is none of this kind)."""

    state: RunState | None
    lang: str  # "en" / "zh"
    console: str  # the last lines of the job's console.log
    drawn: dict[str, Any]  # the key this view was read under: the page keeps it and sends it back on the next tick
    previous: dict[str, Any] | None  # the key of what the page showed before

    @property
    def running(self) -> bool:
        return self.state is not None and self.state.status == "running"

    @property
    def same_job(self) -> bool:
        """The page already showed this job (an earlier state of it): what a person did to its view still holds."""
        return self.previous is not None and self.state is not None and self.previous.get("folder") == self.state.folder

    @property
    def just_ended(self) -> bool:
        """The job the page watched running has ended since the last redraw."""
        return self.previous is not None and self.previous.get("status") == "running" and not self.running

    def log(self) -> str:
        """The console as a person reads it (log_view.readable_log)."""
        return readable_log(self.console, running=self.running)

    def cause(self) -> str:
        """Why the job failed: its one `error:` line, else its last lines."""
        return failure_cause(self.console, self.lang)


class RunMonitor:
    """Watches the Runner's job of one kind ("train", "eval", "export")."""

    def __init__(self, runner: Runner, kind: str, watched: tuple[str, ...] = (), log_lines: int = 200) -> None:
        self.runner = runner
        self.kind = kind
        self.watched = watched  # files in the job's folder whose change is a reason to redraw (the log is always)
        self.log_lines = log_lines

    def job(self) -> RunState | None:
        """The job this tab shows; for training, the last run even while an evaluation or export runs."""
        if self.kind == "train":
            return self.runner.train_state()
        state = self.runner.state()
        return state if state is not None and state.kind == self.kind else None

    def look(self, lang_name: str, previous: dict[str, Any] | None, *extra: Any) -> JobView | None:
        """The job as it is now, or None when nothing changed since ``previous`` (the key of the page's last view).

        ``extra``: what else the tab's view depends on (the model whose history it lists).
        """
        state = self.job()
        drawn: dict[str, Any] = {"lang": lang_name, "extra": list(extra)}
        if state is not None:
            drawn.update(
                folder=state.folder,
                status=state.status,
                queued=len(state.queue),
                changed=[file_mtime(state.log_path), *(file_mtime(Path(state.folder) / name) for name in self.watched)],
            )
        if drawn == previous:
            return None
        console = self.runner.log_tail(self.log_lines, state) if state is not None else ""
        return JobView(state, LANGUAGES[lang_name], console, drawn, previous)
