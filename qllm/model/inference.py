"""Base model + tokenizer + template (+ saved adapters), ready for generation or scoring."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from qllm.data.template import ChatTemplate, get_template
from qllm.hparams.data_args import DataArguments
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.hparams.model_args import ModelArguments
from qllm.methods import Method
from qllm.model.loader import load_model, load_tokenizer
from qllm.model.quantization import is_quantized
from qllm.model.saved_adapter import check_saved_adapter

logger = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    template: ChatTemplate
    adapter_methods: list[str]  # the method of each loaded adapter, in order


def adapter_method(path: str) -> Method:
    """The method an adapter folder was saved with; ArgumentError when the folder cannot be loaded."""
    return check_saved_adapter(path)


def adapter_methods(model_args: ModelArguments) -> list[str]:
    """The method of each adapter folder to load, in order; ArgumentError naming a folder that cannot be loaded."""
    paths = model_args.adapter_paths if model_args.adapter_name_or_path else []
    return [adapter_method(path).name for path in paths]


def inference_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_for_inference(
    model_args: ModelArguments, data_args: DataArguments, finetuning_args: FinetuningArguments
) -> LoadedModel:
    from qllm.adapters.attach import load_adapters

    paths = model_args.adapter_paths if model_args.adapter_name_or_path else []
    methods = adapter_methods(model_args)  # a broken folder is named before anything loads
    tokenizer = load_tokenizer(model_args.model_name_or_path, model_args.cache_dir)
    template = get_template(data_args.template, tokenizer)
    model = load_model(
        model_args.model_name_or_path,
        dtype=model_args.inference_dtype,
        cache_dir=model_args.cache_dir,
        quantization=model_args.quantization_config(model_args.inference_dtype),
    )
    if paths:
        if methods[-1] != finetuning_args.finetuning_type:
            logger.warning(
                "note: %s holds a %s adapter; loading it as such (--finetuning_type %s does not apply)",
                paths[-1],
                methods[-1],
                finetuning_args.finetuning_type,
            )
        model = load_adapters(model, model_args.adapter_name_or_path, is_trainable=False)
    if not is_quantized(model):  # a quantized model was placed on its device while it loaded
        model = model.to(inference_device())
    model = model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, template=template, adapter_methods=methods)
