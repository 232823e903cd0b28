"""Names that more than one module writes or reads: the files of a run, of an evaluation, of the board.

Torch-free: the board reads runs through these names without loading the ML stack.
"""

from __future__ import annotations

from pathlib import Path

# A training run's output_dir
ADAPTER_CONFIG = "adapter_config.json"  # peft's; its presence marks a loadable adapter
ADAPTER_WEIGHTS = "adapter_model.safetensors"  # peft's weights file beside it
TRAINER_LOG = "trainer_log.jsonl"  # one JSON line per logging step: the only source of the charts
CIRCUIT_LOG = "circuit_log.jsonl"  # vqc / tq: what the circuits learn, one JSON line per logging step
CIRCUIT_START = "circuit_start.safetensors"  # vqc / tq: the circuits' start angles, for the drift of a resumed run
TRAIN_ARGS = "train_args.yaml"  # the resolved arguments; itself a config that reproduces the run
RUN_LOG = "run.log"  # the run's own log (qllm, transformers, peft loggers)
CONSOLE_LOG = "console.log"  # the board's capture of a subprocess's output (train or eval)
FINISHED_MARKER = "all_results.json"  # written by the Trainer at the very end of a run
PLOT_FILE = "training_loss.png"
CHECKPOINT_PREFIX = "checkpoint-"
RUN_LOCK = ".qllm_run.lock"  # locked by the process training into the folder (one writer per run)
RUN_MANIFEST = "qllm_run.json"  # what runs wrote here: the only files a later run may remove or replace
TRAINER_STATE = "trainer_state.json"  # the Trainer writes it last into a checkpoint: a parseable one = complete

EVALUATIONS_FOLDER = "eval"  # in a run's folder: the board's and compare's evaluations of its adapter

# An evaluation's save_dir
SCORING = "Scoring"  # the label of an evaluation's own progress bar: the board reads its percentage, no other
RESULTS_FILE = "results.json"
TRAIN_RESULTS = "train_results.json"  # the Trainer's metrics of a finished run (train_loss: the mean)
EVAL_ARGS = "eval_args.yaml"
EXPORT_ARGS = "export_args.yaml"  # the arguments of a board export, beside its console.log
EXPORTED_MODEL = "model"  # a board export's merged model, inside the export's folder

# The board, under its saves folder
CONFIGS_FOLDER = "configs"
BOARD_STATE = ".board/run.json"


def checkpoint_step(path: Path) -> int | None:
    """The step of a `checkpoint-N` folder, None for anything else."""
    suffix = path.name.removeprefix(CHECKPOINT_PREFIX)
    return int(suffix) if path.name.startswith(CHECKPOINT_PREFIX) and suffix.isdigit() else None


def checkpoints(output_dir: str | Path) -> list[Path]:
    """The `checkpoint-N` folders of a run, oldest (lowest N) first: the one order used everywhere."""
    folders = [
        p for p in Path(output_dir).glob(f"{CHECKPOINT_PREFIX}*") if p.is_dir() and checkpoint_step(p) is not None
    ]
    return sorted(folders, key=checkpoint_step)
