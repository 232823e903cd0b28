"""`python -m qllm {train,eval,chat,export,webui}`: the command line.

Each command takes the seed's flags verbatim, or a YAML/JSON file of them (later flags
override the file).  Bad input ends with one `error: --field: ...` line and exit code 2.
"""

from __future__ import annotations

import logging
import os
import sys

from qllm.errors import ArgumentError

USAGE = """usage: python -m qllm <command> [config.yaml] [--flag value ...]

commands:
  train    fine-tune a model with lora, vqc, tq or quanTA (the seed's train.sh flags)
  webui    start the board (same as python app.py)

`python -m qllm <command> --help` lists a command's flags."""


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.utils.logging.set_verbosity_warning()


def _train(argv: list[str]) -> None:
    from qllm.train.workflow import run_train

    metrics = run_train(argv).metrics
    summary = ", ".join(f"{k} {metrics[k]:.4f}" for k in ("train_loss", "eval_loss") if k in metrics)
    print(f"done: {summary}")


def _webui(argv: list[str]) -> None:
    from app import main as app_main

    app_main(argv)


COMMANDS = {"train": _train, "webui": _webui}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"error: unknown command '{command}'; choose one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    _setup_logging()
    try:
        COMMANDS[command](rest)
    except ArgumentError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
