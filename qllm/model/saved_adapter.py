"""A saved adapter folder, checked before peft or safetensors read it.

peft and safetensors report a broken file with a long traceback ("Error while deserializing
header", a JSONDecodeError, "size mismatch for ..."); a user needs the file, what is wrong
with it and what to do.  Every command that loads a saved adapter (chat, eval, export, a
run resumed from a checkpoint, the board's tabs) asks here first.  Torch-free: the board and
the run-folder rules import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qllm.constants import ADAPTER_CONFIG, ADAPTER_WEIGHTS
from qllm.errors import ArgumentError
from qllm.methods import METHODS, Method, method_for_peft_type

REWRITE = "train it again, or point at another checkpoint of the run"


class SavedAdapterError(ValueError):
    """What is wrong with a saved adapter folder (the message) and what to do about it (``fix``)."""

    def __init__(self, problem: str, fix: str = REWRITE) -> None:
        super().__init__(problem)
        self.fix = fix


def read_adapter_config(folder: str | Path) -> dict[str, Any]:
    """The folder's adapter_config.json; SavedAdapterError says what is wrong with it."""
    path = Path(folder) / ADAPTER_CONFIG
    if not path.is_file():
        raise SavedAdapterError(
            f"'{folder}' holds no {ADAPTER_CONFIG}", "point at a training output_dir or one of its checkpoints"
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise SavedAdapterError(f"{path} is not valid JSON ({str(err).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise SavedAdapterError(f"{path} does not hold a JSON object of settings")
    return config


def saved_method(config: dict[str, Any], folder: str | Path) -> Method:
    method = method_for_peft_type(str(config.get("peft_type", "")))
    if method is None:
        known = ", ".join(f"{m.peft_type} ({m.name})" for m in METHODS.values())
        raise SavedAdapterError(
            f"{Path(folder) / ADAPTER_CONFIG} names peft_type {config.get('peft_type')!r}, which this tool cannot load",
            f"it loads {known}",
        )
    return method


def check_weights(folder: str | Path) -> None:
    """The weights file is there and whole (safetensors checks that its header covers the file)."""
    from safetensors import SafetensorError, safe_open

    path = Path(folder) / ADAPTER_WEIGHTS
    if not path.is_file():
        raise SavedAdapterError(f"'{folder}' has {ADAPTER_CONFIG} but no {ADAPTER_WEIGHTS}")
    try:
        with safe_open(str(path), framework="pt") as weights:
            weights.keys()
    except (SafetensorError, OSError) as err:
        why = str(err).removeprefix("Error while deserializing header: ")
        raise SavedAdapterError(f"{path} is damaged or cut short ({why})") from None


def loadable_method(folder: str | Path) -> Method:
    """The method of the adapter in ``folder`` once its config and weights check out; SavedAdapterError if not."""
    method = saved_method(read_adapter_config(folder), folder)
    check_weights(folder)
    return method


def saved_adapter_problem(folder: str | Path) -> str | None:
    """What keeps the adapter in ``folder`` from loading, in words; None when it loads."""
    try:
        loadable_method(folder)
    except SavedAdapterError as err:
        return str(err)
    return None


def check_saved_adapter(folder: str | Path, field: str = "adapter_name_or_path") -> Method:
    """The method of a loadable saved adapter; ArgumentError naming the file and the fix otherwise."""
    try:
        return loadable_method(folder)
    except SavedAdapterError as err:
        raise ArgumentError(field, f"{err}; {err.fix}") from None


def settings_differing(folder: str | Path, new_config) -> list[tuple[str, Any, Any]]:
    """(setting, value in the saved adapter, value now) for each setting of the method that differs.

    A run resumed with another shape (`--lora_rank 8` then `16`) would fail with a size-mismatch
    traceback, and one with another scale would silently train something else.
    """
    saved = read_adapter_config(folder)
    method = saved_method(saved, folder)
    now = new_config.to_dict()
    differing = []
    now_type = getattr(now.get("peft_type"), "value", now.get("peft_type"))
    if now_type != method.peft_type:
        now_method = method_for_peft_type(str(now_type))
        return [("finetuning_type", method.name, now_method.name if now_method else now_type)]
    for argument, key in method.fields.items():
        if key in saved and _comparable(saved[key]) != _comparable(now.get(key)):
            differing.append((argument, saved[key], now.get(key)))
    if _targets(saved.get("target_modules")) != _targets(now.get("target_modules")):
        differing.append(("lora_target", saved.get("target_modules"), now.get("target_modules")))
    return differing


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def _targets(value: Any) -> Any:
    return sorted(value) if isinstance(value, list | tuple | set) else value


def check_resume_settings(checkpoint: str | Path, finetuning_args) -> None:
    """A run resumes only with the method settings its checkpoint was trained with; else one line and two ways out."""
    differing = settings_differing(checkpoint, finetuning_args.peft_config())
    if not differing:
        return
    flag, saved, now = differing[0]
    raise ArgumentError(
        flag,
        f"is {_as_flag(now)} but {checkpoint} was trained with {_as_flag(saved)}; pass --{flag} {_as_flag(saved)} "
        "to resume that run, or --overwrite_output_dir (or another --output_dir) to start a new one",
    )


def _as_flag(value: Any) -> str:
    """A saved setting as it is typed on the command line (lists comma-separated)."""
    return ",".join(map(str, value)) if isinstance(value, list | tuple | set) else str(value)
