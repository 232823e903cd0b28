"""Base model + tokenizer + template (+ saved adapters), ready for generation or scoring."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qllm.constants import ADAPTER_CONFIG
from qllm.data.template import ChatTemplate, get_template
from qllm.hparams.data_args import DataArguments
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.hparams.model_args import ModelArguments
from qllm.methods import Method, method_for_peft_type
from qllm.model.loader import load_model, load_tokenizer

logger = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    template: ChatTemplate
    adapter_methods: list[str]  # the method of each loaded adapter, in order


def adapter_method(path: str) -> Method | None:
    """The method an adapter folder was saved with (from its adapter_config.json)."""
    config = Path(path) / ADAPTER_CONFIG
    if not config.is_file():
        return None
    return method_for_peft_type(json.loads(config.read_text()).get("peft_type", ""))


def inference_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_for_inference(
    model_args: ModelArguments, data_args: DataArguments, finetuning_args: FinetuningArguments
) -> LoadedModel:
    from qllm.adapters.attach import load_adapters

    tokenizer = load_tokenizer(model_args.model_name_or_path, model_args.cache_dir)
    template = get_template(data_args.template, tokenizer)
    model = load_model(model_args.model_name_or_path, dtype=model_args.inference_dtype, cache_dir=model_args.cache_dir)
    methods: list[str] = []
    if model_args.adapter_name_or_path:
        paths = model_args.adapter_paths
        methods = [getattr(adapter_method(p), "name", "?") for p in paths]
        if methods[-1] not in ("?", finetuning_args.finetuning_type):
            logger.warning(
                "note: %s holds a %s adapter; loading it as such (--finetuning_type %s does not apply)",
                paths[-1],
                methods[-1],
                finetuning_args.finetuning_type,
            )
        model = load_adapters(model, model_args.adapter_name_or_path, is_trainable=False)
    model = model.to(inference_device()).eval()
    return LoadedModel(model=model, tokenizer=tokenizer, template=template, adapter_methods=methods)
