"""Base models and tokenizers: `qllm-tiny`, a local folder, or a hub id, loaded the same way."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from qllm.errors import ArgumentError
from qllm.paths import TINY_MODEL_DIR, TINY_MODEL_NAME

if TYPE_CHECKING:
    import torch
    from transformers import BitsAndBytesConfig

logger = logging.getLogger(__name__)

HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def resolve_model_path(name: str) -> str:
    """A loadable path or hub id; a missing local folder is reported before anything loads."""
    if name == TINY_MODEL_NAME:
        return str(TINY_MODEL_DIR)
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ArgumentError(
                "model_name_or_path", f"'{name}' has no config.json; point at a Hugging Face model folder"
            )
        return str(path)
    if HUB_ID.match(name) and not name.startswith("."):
        return name
    raise ArgumentError(
        "model_name_or_path",
        f"no model folder at '{name}'; give a local model folder, a hub id such as "
        f"Qwen/Qwen2.5-0.5B, or {TINY_MODEL_NAME}",
    )


def check_hub_model(name: str, cache_dir: str | None = None, timeout: float = 10.0) -> None:
    """Fail now, in one line, when a hub id cannot be fetched: in the cache, or the hub answers for it.

    Without this a run would start, retry the network for a minute and more, and fail; the
    board asks before it writes anything.  Local folders and qllm-tiny pass untouched.
    """
    if name == TINY_MODEL_NAME or Path(name).expanduser().is_dir():
        return
    from huggingface_hub import HfApi, try_to_load_from_cache
    from huggingface_hub import constants as hub_constants

    if isinstance(try_to_load_from_cache(name, "config.json", cache_dir=cache_dir), str):
        return  # downloaded before: loads offline too
    if hub_constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise ArgumentError(
            "model_name_or_path",
            f"'{name}' is not in the local Hugging Face cache and this machine is offline (HF_HUB_OFFLINE=1); "
            "download it where you have network, or give a local model folder",
        )
    try:
        HfApi().model_info(name, timeout=timeout)
    except Exception as err:  # no network, no such repository, a gated one: all say the same to the user
        raise _hub_error(name, err) from None


def _hub_error(name: str, err: Exception) -> ArgumentError:
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    why = "this machine is offline" if offline else str(err).strip().splitlines()[0][:160]
    return ArgumentError(
        "model_name_or_path",
        f"cannot load '{name}' ({why}); download it where you have network and pass its local folder",
    )


def load_tokenizer(model_name_or_path: str, cache_dir: str | None = None):
    from transformers import AutoTokenizer

    path = resolve_model_path(model_name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, cache_dir=cache_dir)
    except OSError as err:
        raise _hub_error(model_name_or_path, err) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    model_name_or_path: str,
    dtype: str | torch.dtype | None = None,
    cache_dir: str | None = None,
    quantization: BitsAndBytesConfig | None = None,
):
    """The causal LM in ``dtype`` ("bfloat16", torch.float16, ...; float32 by default).

    With ``quantization`` its linear layers are quantized while they load, on the device
    this process computes on (a quantized model is not moved afterwards).
    """
    import torch
    from transformers import AutoModelForCausalLM

    from qllm.model.quantization import keep_plain_layout, load_device, quiet_repeated_warnings

    path = resolve_model_path(model_name_or_path)
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype or torch.float32
    placement = {} if quantization is None else {"quantization_config": quantization, "device_map": {"": load_device()}}
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, cache_dir=cache_dir, **placement)
    except OSError as err:
        raise _hub_error(model_name_or_path, err) from None
    if quantization is not None:
        keep_plain_layout(model)
        quiet_repeated_warnings()
    bits = "" if quantization is None else f", linear layers in {8 if quantization.load_in_8bit else 4} bits"
    logger.info("loaded %s: %.2fM parameters%s", model_name_or_path, model.num_parameters() / 1e6, bits)
    return model
