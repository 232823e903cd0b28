"""What an existing output_dir means: resume, refuse, or start afresh — decided before writing.

A run's folder holds only the files a run writes.  Anything else in it means the user
pointed `--output_dir` at the wrong place, and nothing there is touched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from qllm.constants import (
    ADAPTER_CONFIG,
    CONSOLE_LOG,
    FINISHED_MARKER,
    PLOT_FILE,
    RUN_LOG,
    TRAIN_ARGS,
    TRAINER_LOG,
    checkpoint_step,
    checkpoints,
)
from qllm.errors import ArgumentError

RUN_FILES = {
    ADAPTER_CONFIG,
    "adapter_model.safetensors",
    "README.md",
    TRAINER_LOG,
    "trainer_state.json",
    FINISHED_MARKER,
    "train_results.json",
    "eval_results.json",
    TRAIN_ARGS,
    PLOT_FILE,
    RUN_LOG,
    "training_args.bin",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "runs",
    CONSOLE_LOG,
}


def _is_run_file(path: Path) -> bool:
    return path.name in RUN_FILES or (path.is_dir() and checkpoint_step(path) is not None)


def last_checkpoint(output_dir: Path) -> Path | None:
    found = checkpoints(output_dir)
    return found[-1] if found else None


def plan_output_dir(output_dir: str, overwrite: bool) -> Path | None:
    """The checkpoint to resume from, or None for a fresh run; raises when the folder must not be used."""
    out = Path(output_dir)
    if not out.exists():
        return None
    if not out.is_dir():
        raise ArgumentError("output_dir", f"'{out}' is a file; choose a folder")
    foreign = sorted(p.name for p in out.iterdir() if not _is_run_file(p))
    if foreign and not overwrite:
        raise ArgumentError(
            "output_dir",
            f"'{out}' holds files that no training run wrote ({', '.join(foreign[:3])}); "
            "choose a new folder or pass --overwrite_output_dir",
        )
    if overwrite:
        return None
    checkpoint = last_checkpoint(out)
    if checkpoint is None and (out / FINISHED_MARKER).exists():
        raise ArgumentError(
            "output_dir",
            f"'{out}' holds a finished run; pass --overwrite_output_dir to replace it or choose a new folder",
        )
    return checkpoint


def clear_run_files(output_dir: str, keep: tuple[str, ...] = ()) -> None:
    """Remove an earlier run's files (never anything a run did not write)."""
    out = Path(output_dir)
    if not out.is_dir():
        return
    for path in out.iterdir():
        if _is_run_file(path) and path.name not in keep:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
