"""One writer per run folder: an OS lock on a file in it, naming the process that trains there.

Two `qllm train` processes (or a board run and a terminal run) on one output folder would
both write its checkpoints, logs and final adapter.  The first takes the lock; a second is
refused at start with who holds it (PID and since when).  The lock is the kernel's
(`fcntl.flock`), so it ends with its process however that ends: a killed run never leaves
a lock that blocks the next one.  The file stays (it belongs to the run); a lock file that
no live process locks is free.  Under torchrun the main process holds it for every rank.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from qllm.constants import RUN_LOCK
from qllm.errors import ArgumentError


def _holder_record(descriptor: int) -> dict:
    try:
        record = json.loads(os.pread(descriptor, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _holder_error(output_dir: Path, record: dict) -> ArgumentError:
    since = record.get("since")
    when = f", since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(since))}" if since else ""
    return ArgumentError(
        "output_dir",
        f"'{output_dir}' is being trained by another run (process {record.get('pid', '?')}{when}); "
        "wait for it to end or stop it, or choose another --output_dir",
    )


def check_not_held(output_dir: str | Path) -> None:
    """Refuse a folder that a live run is training into; changes nothing (the board asks before Start)."""
    path = Path(output_dir) / RUN_LOCK
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        record = _holder_record(descriptor)
        if record.get("pid") != os.getpid():  # this process's own lock is not another run's
            raise _holder_error(Path(output_dir), record) from None
    finally:
        os.close(descriptor)  # closing releases a shared lock taken just to ask


@contextlib.contextmanager
def run_lock(output_dir: str | Path) -> Iterator[None]:
    """Hold the folder's lock while the body runs; ArgumentError when a live run holds it."""
    path = Path(output_dir) / RUN_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _holder_error(Path(output_dir), _holder_record(descriptor)) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps({"pid": os.getpid(), "since": time.time()}).encode("utf-8"), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock
