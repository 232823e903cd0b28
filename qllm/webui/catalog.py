"""What the board offers to choose from and to look at before a run: models, datasets, method notes, the device.

Everything here reads files; nothing imports torch at module import time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from qllm.data.registry import DatasetAttr, load_registry
from qllm.errors import ArgumentError
from qllm.paths import ADAPTERS_DOC, DATA_DIR

MODELS = ["qllm-tiny", "Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-7B"]


def method_notes(method: str) -> str:
    """The section of docs/adapters.md about ``method`` (its "## `method` ..." heading to the next one), or ""."""
    try:
        doc = ADAPTERS_DOC.read_text(encoding="utf-8")
    except OSError:  # an install without the checkout's docs/
        return ""
    sections = re.split(r"(?m)^(?=## )", doc)
    return next(
        (
            section.strip()
            for section in sections
            if section.startswith("## ") and f"`{method}`" in section.split("\n")[0]
        ),
        "",
    )


def dataset_choices(dataset_dir: str = str(DATA_DIR)) -> list[str]:
    try:
        return sorted(load_registry(dataset_dir))
    except ArgumentError:
        return []


def dataset_preview(names: list[str], dataset_dir: str = str(DATA_DIR), rows: int = 3) -> dict[str, Any]:
    """The first rows of each selected dataset, as stored (hub datasets are described, not fetched)."""
    preview: dict[str, Any] = {}
    registry = load_registry(dataset_dir) if names else {}
    for name in names:
        attr = DatasetAttr.from_entry(name, registry[name])
        if attr.load_from == "hf_hub":
            preview[name] = f"Hugging Face Hub dataset {attr.source} (loaded when training starts; needs network)"
            continue
        path = Path(dataset_dir) / attr.source
        file = path / "train.json" if path.is_dir() else path
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            preview[name] = data[:rows] if isinstance(data, list) else data
        except (OSError, json.JSONDecodeError) as err:
            preview[name] = f"cannot preview {file}: {err}"
    return preview


def device_info() -> str:
    """The device a run will use (imports torch on first call, not at import time)."""
    import torch

    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        return f"GPU: {torch.cuda.get_device_name()} ({free / 2**30:.1f} of {total / 2**30:.1f} GiB free)"
    return f"CPU ({torch.get_num_threads()} threads)"
