"""Where the project's bundled files are: the one module that knows.

The package is installed from its checkout (`pip install -e .`, which `make setup` runs),
and the files it ships beside the code stay in the checkout's top-level folders
(`assets/`, `data/`, `evaluation/`, `saves/`), as the README's layout shows.  The checkout
is the folder above this package; `QLLM_HOME` names another one (e.g. a copy of those
folders next to a non-editable install).  The board's runs go to `QLLM_SAVES_DIR` when
set, else `<home>/saves`.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("QLLM_HOME") or Path(__file__).resolve().parent.parent).resolve()

TINY_MODEL_NAME = "qllm-tiny"
TINY_MODEL_DIR = PROJECT_ROOT / "assets" / TINY_MODEL_NAME
DATA_DIR = PROJECT_ROOT / "data"
EVALUATION_DIR = PROJECT_ROOT / "evaluation"
SAMPLE_BENCHMARK_DIR = EVALUATION_DIR / "sample"
ADAPTERS_DOC = PROJECT_ROOT / "docs" / "adapters.md"  # each method's maths and flags; the board shows its section


def saves_dir() -> Path:
    """The board's root for runs, configurations and its state file (read when the board starts)."""
    return Path(os.environ.get("QLLM_SAVES_DIR") or PROJECT_ROOT / "saves").resolve()
