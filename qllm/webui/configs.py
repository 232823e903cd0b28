"""Saved board configurations: the top bar and the form, kept by name in saves/configs/<name>.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qllm.constants import CONFIGS_FOLDER
from qllm.errors import ArgumentError
from qllm.webui.saves import SAVES, plain_name

CONFIGS = SAVES / CONFIGS_FOLDER


def list_configs() -> list[str]:
    return sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def save_config(name: str, values: dict[str, Any]) -> Path:
    plain_name(name, "config_name")
    CONFIGS.mkdir(parents=True, exist_ok=True)
    path = CONFIGS / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load_config(name: str) -> dict[str, Any]:
    path = CONFIGS / f"{name}.yaml"
    if not path.is_file():
        raise ArgumentError("config_name", f"no saved configuration '{name}'")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
