"""What an existing output_dir means: resume, refuse, or start afresh — decided before writing.

A run records what it wrote in the folder's manifest (`qllm_run.json`).  A folder without
one, or holding anything the manifest does not list, is not a run's: nothing there is
removed or replaced, with or without --overwrite_output_dir.  Checkpoints interrupted while
being saved are told apart from complete ones and set aside, never resumed from.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

from qllm.constants import (
    ADAPTER_CONFIG,
    ADAPTER_WEIGHTS,
    CIRCUIT_LOG,
    CIRCUIT_START,
    CONSOLE_LOG,
    EVALUATIONS_FOLDER,
    FINISHED_MARKER,
    PLOT_FILE,
    RUN_LOCK,
    RUN_LOG,
    RUN_MANIFEST,
    TRAIN_ARGS,
    TRAIN_RESULTS,
    TRAINER_LOG,
    TRAINER_STATE,
    checkpoint_step,
    checkpoints,
)
from qllm.errors import ArgumentError
from qllm.model.saved_adapter import saved_adapter_problem
from qllm.train.run_lock import check_not_held

logger = logging.getLogger(__name__)

# The names a run writes at the top of its folder (the Trainer, peft, the tokenizer, ours).
RUN_FILES = {
    ADAPTER_CONFIG,
    ADAPTER_WEIGHTS,
    "README.md",
    TRAINER_LOG,
    CIRCUIT_LOG,
    CIRCUIT_START,
    TRAINER_STATE,
    FINISHED_MARKER,
    TRAIN_RESULTS,
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
    RUN_LOCK,
}
INCOMPLETE_PREFIX = "incomplete-"  # a checkpoint the run was killed while saving, set aside
FINAL_STAGING = ".final-adapter.tmp"  # the final adapter is written here, then moved into place
MANIFEST_TEMPORARY = f".{RUN_MANIFEST}.tmp"


def _unrecorded_name(name: str) -> bool:
    """Names written where the manifest cannot list them yet: by a run while saving (a kill there
    leaves them unrecorded), or by evaluations of the run's adapter after it ended."""
    return (
        checkpoint_step(Path(name)) is not None
        or name.startswith(INCOMPLETE_PREFIX + "checkpoint-")
        or name in (FINAL_STAGING, MANIFEST_TEMPORARY, EVALUATIONS_FOLDER, RUN_LOCK)
    )


def run_entries(output_dir: Path) -> set[str] | None:
    """The names in ``output_dir`` that runs wrote; None when nothing shows that a run wrote there."""
    manifest = output_dir / RUN_MANIFEST
    present = {path.name for path in output_dir.iterdir()}
    if manifest.is_file():
        try:
            recorded = set(json.loads(manifest.read_text(encoding="utf-8"))["entries"])
        except (ValueError, KeyError, TypeError):
            return None  # written atomically, so unreadable means someone else's file of that name
        return (recorded | {name for name in present if _unrecorded_name(name)} | {RUN_MANIFEST}) & present
    legacy_run = TRAINER_LOG in present or any(checkpoint_step(Path(name)) is not None for name in present)
    if legacy_run and all(name in RUN_FILES or _unrecorded_name(name) for name in present):
        return present  # a run of a version before manifests: only run-written names, a training log
    return None


def record_run_files(output_dir: Path, names: Iterable[str] = ()) -> None:
    """Add to the manifest the run-written names present now, and ``names`` (files about to be written).

    Only names a run writes are recorded, so a file the user drops into a run's folder stays theirs.
    The manifest is replaced atomically: a kill leaves the old one or the new one.
    """
    recorded = run_entries(output_dir) or set()
    present = {path.name for path in output_dir.iterdir() if path.name in RUN_FILES or _unrecorded_name(path.name)}
    entries = sorted((recorded | present | set(names)) - {RUN_MANIFEST, MANIFEST_TEMPORARY})
    temporary = output_dir / MANIFEST_TEMPORARY
    temporary.write_text(json.dumps({"written_by": "qllm train", "entries": entries}, indent=1), encoding="utf-8")
    os.replace(temporary, output_dir / RUN_MANIFEST)


def checkpoint_problem(checkpoint: Path) -> str | None:
    """Why a checkpoint cannot be resumed from, in words that follow "it is"; None when it can.

    The Trainer writes trainer_state.json after everything else of a checkpoint, so a
    missing or unparseable one means the run ended while saving it; a whole state beside
    damaged adapter files means the files were damaged later (a full disk, a copy cut short).
    """
    try:
        state = json.loads((checkpoint / TRAINER_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "incomplete (the run ended while saving it)"
    if not isinstance(state, dict) or not isinstance(state.get("global_step"), int):
        return f"unusable ({TRAINER_STATE} holds no step count)"
    problem = saved_adapter_problem(checkpoint) or damaged_torch_file(checkpoint)
    return f"unusable ({problem})" if problem else None


def damaged_torch_file(checkpoint: Path) -> str | None:
    """Which of the checkpoint's torch files (optimizer, scheduler, random states) is damaged, in words.

    torch saves a zip archive whose members carry CRC-32 checksums: zipfile's own check finds
    a file cut short or changed without loading it (and without importing torch).
    """
    for path in sorted([*checkpoint.glob("*.pt"), *checkpoint.glob("*.pth")]):
        try:
            with zipfile.ZipFile(path) as archive:
                whole = archive.testzip() is None and any(name.endswith("/data.pkl") for name in archive.namelist())
        except (OSError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError):  # RuntimeError: bad CRC, zlib
            whole = False
        if not whole:
            return f"{path.name} is damaged or cut short"
    return None


def is_complete(checkpoint: Path) -> bool:
    return checkpoint_problem(checkpoint) is None


def last_complete_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint a run can resume from (checked newest first: each check reads its files)."""
    return next((checkpoint for checkpoint in reversed(checkpoints(output_dir)) if is_complete(checkpoint)), None)


def set_aside_incomplete_checkpoints(output_dir: Path) -> None:
    """Rename each checkpoint that cannot be resumed from to incomplete-checkpoint-N, saying why in one line."""
    for checkpoint in checkpoints(output_dir):
        problem = checkpoint_problem(checkpoint)
        if problem is None:
            continue
        target = output_dir / f"{INCOMPLETE_PREFIX}{checkpoint.name}"
        suffix = 1
        while target.exists():
            suffix += 1
            target = output_dir / f"{INCOMPLETE_PREFIX}{checkpoint.name}-{suffix}"
        checkpoint.rename(target)
        logger.warning("%s is %s: set aside as %s", checkpoint, problem, target.name)


def plan_output_dir(output_dir: str, overwrite: bool, resume_finished: bool = False) -> Path | None:
    """The checkpoint to resume from, or None for a fresh run; raises when the folder must not be used.

    A stopped or failed run resumes by default; a finished one only by an explicit choice
    (``resume_finished``, or ``overwrite`` to start afresh).  Side-effect free, so the board
    calls it to check a form before anything starts.
    """
    out = Path(output_dir)
    if not out.exists():
        return None
    if not out.is_dir():
        raise ArgumentError("output_dir", f"'{out}' is a file; choose a folder")
    check_not_held(out)
    present = {path.name for path in out.iterdir()} - {RUN_LOCK}  # a lock file alone: a run that wrote nothing
    if not present:
        return None
    foreign = sorted(present - (run_entries(out) or set()))
    if foreign:
        rule = "--overwrite_output_dir replaces only what a run wrote; " if overwrite else ""
        raise ArgumentError(
            "output_dir",
            f"'{out}' holds files that no training run wrote ({', '.join(foreign[:3])}); {rule}choose a new folder",
        )
    if overwrite:
        return None
    checkpoint = last_complete_checkpoint(out)
    if (out / FINISHED_MARKER).exists() and not (resume_finished and checkpoint):
        resume = "--resume_finished to continue it from its last checkpoint, " if checkpoint else ""
        raise ArgumentError(
            "output_dir",
            f"'{out}' holds a finished run; pass {resume}--overwrite_output_dir to replace it, or choose a new folder",
        )
    return checkpoint


def clear_run_files(output_dir: Path, keep: tuple[str, ...] = ()) -> None:
    """Remove what earlier runs wrote here (never anything else), then record what stays."""
    if not output_dir.is_dir():
        return
    for name in (run_entries(output_dir) or set()) - {RUN_MANIFEST, RUN_LOCK, *keep}:
        path = output_dir / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def claim_run_folder(output_dir: Path, names: Iterable[str]) -> None:
    """Create the folder if needed and record ``names`` (files about to be written) as a run's."""
    output_dir.mkdir(parents=True, exist_ok=True)
    record_run_files(output_dir, names)


def move_final_adapter(staging: Path, output_dir: Path) -> None:
    """Move the files saved in ``staging`` into the run's folder, each by an atomic rename.

    adapter_config.json goes last: its presence marks a loadable adapter, so a kill
    midway never leaves a config next to missing or half-written weights.  The names are
    recorded first, so a kill midway leaves files the rerun knows as the run's own.
    """
    record_run_files(output_dir, [path.name for path in staging.iterdir()])
    for path in sorted(staging.iterdir(), key=lambda path: path.name == ADAPTER_CONFIG):
        os.replace(path, output_dir / path.name)
    staging.rmdir()
