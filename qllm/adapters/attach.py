"""Wrap a base model with a new adapter, or load saved ones, through peft's public API."""

from __future__ import annotations

import logging
from pathlib import Path

from qllm.constants import ADAPTER_CONFIG
from qllm.errors import ArgumentError, InvalidField
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.hparams.lists import split_names
from qllm.model.saved_adapter import check_saved_adapter, read_adapter_config

logger = logging.getLogger(__name__)


def linear_module_names(model) -> list[str]:
    """The distinct short names of the model's Linear layers, output head excluded."""
    import torch

    output = model.get_output_embeddings()
    names = {
        name.split(".")[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module is not output
    }
    return sorted(names)


def check_targets(model, finetuning_args: FinetuningArguments) -> None:
    """Every named target is a Linear layer of this model."""
    targets = finetuning_args.target_modules
    if targets == "all-linear":
        return
    available = linear_module_names(model)
    missing = [name for name in targets if name not in available]
    if missing:
        raise ArgumentError(
            "lora_target",
            f"'{missing[0]}' matches no linear layer of this model; available: {', '.join(available)}, all",
        )


def target_shapes(model, finetuning_args: FinetuningArguments) -> set[tuple[int, int]]:
    """The distinct (in_features, out_features) of the Linear layers the adapter will wrap."""
    import torch

    output = model.get_output_embeddings()
    targets = finetuning_args.target_modules
    return {
        (module.in_features, module.out_features)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and module is not output
        and (targets == "all-linear" or name.split(".")[-1] in targets)
    }


def check_new_adapter(model_name_or_path: str, finetuning_args: FinetuningArguments, cache_dir: str | None) -> None:
    """Before a run writes anything: the targets exist and every limit that depends on a layer's shape holds.

    The model is built from its config on the meta device (no weights read, no memory used), so
    a 7B model is checked as fast as qllm-tiny; the checks are the method's own (`Method.layer_check`),
    the ones its layers run when the adapter is made.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from qllm.methods import import_object
    from qllm.model.loader import resolve_model_path

    config = AutoConfig.from_pretrained(resolve_model_path(model_name_or_path), cache_dir=cache_dir)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    check_targets(model, finetuning_args)
    if finetuning_args.method.layer_check is None:
        return
    check_layers = import_object(finetuning_args.method.layer_check)
    try:
        check_layers(finetuning_args.peft_config(), target_shapes(model, finetuning_args))
    except InvalidField as err:
        raise finetuning_args.argument_error(err) from None


def check_base_model(model, adapter_path: str) -> None:
    """The adapter was trained on this base model, as far as names tell.

    peft records the base model's path or hub id; they are compared by their last
    component (`/data/Qwen2.5-0.5B` is `Qwen/Qwen2.5-0.5B`), so that a model moved to
    another folder still matches while another model of the same shape (an -Instruct
    variant, say) does not load silently.  A model without a name (built in code) is not
    checked; a shape mismatch is still caught when the weights load.
    """
    config = read_adapter_config(adapter_path)
    recorded = (config.get("base_model_name_or_path") or "").rstrip("/")
    current = (getattr(model, "name_or_path", "") or "").rstrip("/")
    if recorded and current and Path(recorded).name != Path(current).name:
        raise ArgumentError(
            "adapter_name_or_path",
            f"'{adapter_path}' was trained on {recorded}, not on {current}; "
            f"load it with --model_name_or_path {recorded}",
        )


def load_adapters(model, adapter_name_or_path: str, is_trainable: bool):
    """Saved adapter folder(s), comma-separated; with several, all but the last are merged in."""
    from peft import PeftModel

    paths = split_names(adapter_name_or_path)
    for path in paths:
        check_saved_adapter(path)
        check_base_model(model, path)
    path = paths[0]
    try:
        for path in paths[:-1]:
            model = PeftModel.from_pretrained(model, path).merge_and_unload()
        path = paths[-1]
        return PeftModel.from_pretrained(model, path, is_trainable=is_trainable)
    except InvalidField as err:  # a saved config its method refuses (e.g. an old quanTA layout)
        raise ArgumentError("adapter_name_or_path", err.message) from None
    except RuntimeError as err:  # shape mismatch: another base model, or settings edited after training
        if "size mismatch" not in str(err):
            raise
        raise ArgumentError(
            "adapter_name_or_path",
            f"the weights in '{path}' do not fit this base model with the settings in its {ADAPTER_CONFIG}; "
            "load it with the model it was trained on, or train it again",
        ) from err
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as err:  # settings no adapter is made of
        logger.debug("loading %s failed", path, exc_info=True)
        why = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ArgumentError(
            "adapter_name_or_path",
            f"the settings in {ADAPTER_CONFIG} of '{path}' do not make an adapter ({why}); "
            "train it again, or point at another checkpoint of the run",
        ) from err


def attach_adapter(model, finetuning_args: FinetuningArguments, adapter_name_or_path: str | None, is_trainable: bool):
    """A `PeftModel`: the saved adapter(s) when given, else a fresh one of `finetuning_type`."""
    from peft import get_peft_model

    if adapter_name_or_path:
        model = load_adapters(model, adapter_name_or_path, is_trainable)
    else:
        check_targets(model, finetuning_args)
        try:
            model = get_peft_model(model, finetuning_args.peft_config())
        except InvalidField as err:  # a limit that depends on the model (e.g. quanTA's axes vs a layer's width)
            raise finetuning_args.argument_error(err) from None
    if is_trainable:
        trainable, total = model.get_nb_trainable_parameters()
        logger.info(
            "trainable params: %d || all params: %d || trainable%%: %.4f", trainable, total, 100 * trainable / total
        )
    return model
