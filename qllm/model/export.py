"""`qllm export`: merge a linear adapter (a mergeable method) into the base and save a standalone model."""

from __future__ import annotations

import logging
from pathlib import Path

from qllm.errors import ArgumentError
from qllm.hparams.parser import Source, get_export_args
from qllm.model.inference import adapter_method, load_for_inference

logger = logging.getLogger(__name__)


def run_export(source: Source) -> Path:
    model_args, data_args, export_args, finetuning_args = get_export_args(source)
    if not model_args.adapter_name_or_path:
        raise ArgumentError("adapter_name_or_path", "is required: export merges an adapter into the base model")
    if model_args.quantization_bit is not None:
        raise ArgumentError(
            "quantization_bit",
            f"a base in {model_args.quantization_bit} bits cannot take a merged adapter (its weights are packed "
            "integers, and rounding the sum would change the model); export onto the float base: leave "
            "--quantization_bit out (the adapter trained on a quantized base merges into the float one)",
        )
    for path in model_args.adapter_paths:
        method = adapter_method(path)
        if not method.mergeable:
            raise ArgumentError(
                "adapter_name_or_path", f"{path} is a {method.name} adapter: {method.not_mergeable_why['en']}"
            )
    target = Path(export_args.export_dir)
    if target.exists() and any(target.iterdir()):
        raise ArgumentError("export_dir", f"'{target}' exists and is not empty; choose a new folder")
    loaded = load_for_inference(model_args, data_args, finetuning_args)
    merged = loaded.model.merge_and_unload()
    target.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(target)
    loaded.tokenizer.save_pretrained(target)
    logger.info("merged model saved to %s", target)
    return target
