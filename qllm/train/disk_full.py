"""A disk that fills while a run writes: one line naming the folder, the space needed and the way on.

The libraries that write a checkpoint fail in their own words when the disk is full: an
OSError with ENOSPC (Python), "No space left on device (os error 28)" (tokenizers, safetensors)
or "unexpected pos 64 vs 0" (torch's zip writer, which loses the errno).  A failure is taken
for a full disk when its words say so, or when the folder's file system has less room left
than one checkpoint takes.  The half-written checkpoint is removed (the run wrote it, and it
cannot be resumed from), which also frees the room the run's last log lines need; the last
complete checkpoint stays, so the same command resumes once there is space.
"""

from __future__ import annotations

import errno
import logging
import shutil
from pathlib import Path

from qllm.constants import checkpoints
from qllm.errors import ArgumentError
from qllm.train.output_dir import FINAL_STAGING, checkpoint_problem, last_complete_checkpoint

logger = logging.getLogger(__name__)

FULL_DISK_WORDS = ("no space left on device", "os error 28", "storagefull", "disk quota exceeded")


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def human_size(size: float) -> str:
    if size < 1024:
        return f"{size:.0f} B"
    for unit in ("KB", "MB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GB"


def mount_point(path: Path) -> Path:
    path = path.resolve()
    while not path.is_mount():
        path = path.parent
    return path


def says_disk_full(error: BaseException) -> bool:
    """Whether ``error`` or an exception it was raised from is a full disk, in any library's words."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(words in str(current).lower() for words in FULL_DISK_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


def disk_full_error(error: BaseException, output_dir: Path) -> ArgumentError | None:
    """The one-line error for a run that failed because ``output_dir``'s disk is full; None otherwise.

    Removes what the failed save left half-written (a checkpoint without its trainer state,
    the final adapter's staging folder) before measuring the space a save needs.
    """
    if not output_dir.is_dir():
        return None
    resumable = last_complete_checkpoint(output_dir)
    needed = folder_size(resumable) if resumable else 0
    free = shutil.disk_usage(output_dir).free
    if not (says_disk_full(error) or (resumable is not None and free < needed)):
        return None
    half_written = [path for path in checkpoints(output_dir) if checkpoint_problem(path)]
    staging = output_dir / FINAL_STAGING
    saving = half_written[-1].name if half_written else "the final adapter" if staging.exists() else "the run's files"
    for path in [*half_written, staging]:
        shutil.rmtree(path, ignore_errors=True)
    free = shutil.disk_usage(output_dir).free
    need = f"; a checkpoint takes {human_size(needed)}" if needed else ""
    resume = (
        f"then run the same command again to resume from {resumable.name}"
        if resumable
        else "then run the same command again (nothing was saved to resume from)"
    )
    return ArgumentError(
        "output_dir",
        f"no space left on {mount_point(output_dir)} while saving {saving} in '{output_dir}' "
        f"({human_size(free)} free{need}); free some space, {resume}",
    )
