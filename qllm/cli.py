"""`qllm {train,eval,chat,export,webui}` (or `python -m qllm ...`): the command line.

Each command takes quantum-llm's flags verbatim, or a YAML/JSON file of them (later flags
override the file).  Bad input ends with one `error: --field: ...` line and exit code 2.
"""

from __future__ import annotations

import logging
import os
import sys

from qllm.errors import ArgumentError
from qllm.methods import METHODS


def usage() -> str:
    methods = ", ".join(METHODS)
    mergeable = ", ".join(name for name, method in METHODS.items() if method.mergeable)
    return f"""usage: qllm <command> [config.yaml] [--flag value ...]

commands:
  train    fine-tune a model with one of {methods} (quantum-llm's train.sh flags)
  eval     score a model + adapter on mmlu / cmmlu / ceval or a dataset (eval.sh flags)
  chat     chat with a model + adapter in the terminal (cli.sh flags)
  export   merge a {mergeable} adapter into a standalone model (--export_dir)
  compare  train several methods x seeds alike and report mean ± std (--methods, --seeds, --preset)
  circuit  draw a vqc / tq circuit (text, png, svg) or export a trained one as OpenQASM 3
  robustness  score a vqc / tq adapter with finite shots, device noise and circuit ablation (one table)
  webui    start the board (same as python app.py; --host, --port, --share)

`qllm <command> --help` lists a command's flags; `python -m qllm` works the same."""


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("qiskit").setLevel(logging.WARNING)  # its transpiler logs every pass at INFO
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.utils.logging.set_verbosity_warning()


def _train(argv: list[str]) -> None:
    from qllm.train.workflow import run_train

    metrics = run_train(argv).metrics
    summary = ", ".join(f"{k} {metrics[k]:.4f}" for k in ("train_loss", "eval_loss") if k in metrics)
    print(f"done: {summary}")


def _eval(argv: list[str]) -> None:
    from qllm.eval.workflow import run_eval

    print(run_eval(argv)["table"])


def _chat(argv: list[str]) -> None:
    from qllm.chat.chat_model import ChatModel

    chat_model = ChatModel(argv)
    print(
        f"Chatting with {chat_model.description}. Type `clear` to forget the history, `exit` to quit; "
        "Ctrl-C stops a reply."
    )
    history: list[dict[str, str]] = []
    while True:
        try:
            text = input("\nUser: ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.strip() == "exit":
            return
        if text.strip() == "clear":
            history = []
            print("History cleared.")
            continue
        messages = history + [{"role": "user", "content": text}]
        reply = ""
        print("Assistant: ", end="", flush=True)
        try:
            for piece in chat_model.stream(messages):
                print(piece, end="", flush=True)
                reply += piece
        except ArgumentError as err:
            print(f"error: {err}")
            continue
        except KeyboardInterrupt:
            print(" [stopped]", end="")
        print()
        history = messages + [{"role": "assistant", "content": reply}]


def _export(argv: list[str]) -> None:
    from qllm.model.export import run_export

    print(f"done: {run_export(argv)}")


def _compare(argv: list[str]) -> None:
    from qllm.compare.workflow import run_compare

    print(f"done: {run_compare(argv)}")


def _circuit(argv: list[str]) -> None:
    from qllm.circuit.command import run_circuit

    print(run_circuit(argv))


def _robustness(argv: list[str]) -> None:
    from qllm.robustness.workflow import run_robustness

    folder = run_robustness(argv)
    print((folder / "robustness.md").read_text(encoding="utf-8") + f"\nwrote {folder}")


def _webui(argv: list[str]) -> None:
    from qllm.webui.interface import main as serve_board

    serve_board(argv)


COMMANDS = {
    "train": _train,
    "eval": _eval,
    "chat": _chat,
    "export": _export,
    "compare": _compare,
    "circuit": _circuit,
    "robustness": _robustness,
    "webui": _webui,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
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
