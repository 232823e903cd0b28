"""The Train form: one table of fields (components are built from it), and form -> `qllm train` arguments.

Fields follow quantum-llm's PEFT parameter table.  `form_to_args` checks what only the
board knows (run name, numbers typed as text, the extra JSON) and then runs the very
parser the CLI uses, so the board and `python -m qllm train` reject the same input
with the same one-line message.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qllm.constants import TRAIN_ARGS
from qllm.data.registry import get_dataset_attrs
from qllm.errors import ArgumentError
from qllm.hparams.lists import split_names
from qllm.methods import FIELDS as METHOD_FIELDS
from qllm.methods import MethodField, methods_using
from qllm.model.loader import check_hub_model, resolve_model_path
from qllm.paths import DATA_DIR, PROJECT_ROOT
from qllm.train.output_dir import plan_output_dir
from qllm.webui.saves import inside_saves, plain_name, runs_root

ALL_METHODS: tuple[str, ...] = ()
# the board's "Compute type" -> the `qllm train` flag it sets (float32: none)
COMPUTE_TYPES = {"float32": None, "fp16": "fp16", "bf16": "bf16", "pure_bf16": "pure_bf16"}
# the top bar's "Quantization" -> --quantization_bit (none: a float base)
QUANTIZATION_CHOICES = ("none", "8", "4")
# the form's "Sharding" -> the `qllm train` flags it sets: FSDP through transformers, or a DeepSpeed ZeRO config
SHARDING = {
    "none": {},
    "FSDP": {"fsdp": "full_shard auto_wrap"},
    "ZeRO-2": {"deepspeed": str(PROJECT_ROOT / "examples" / "deepspeed" / "ds_z2_config.json")},
    "ZeRO-3": {"deepspeed": str(PROJECT_ROOT / "examples" / "deepspeed" / "ds_z3_config.json")},
}


@dataclass(frozen=True)
class Field:
    key: str  # the qllm argument (and locale key), except the board-only output_name / extra_args
    kind: str  # text, number, int, checkbox, dropdown, multiselect, code
    default: Any
    group: str  # data, optim, method, eval, output
    choices: tuple = ()
    methods: tuple[str, ...] = ALL_METHODS  # shown only for these methods


def method_field(spec: MethodField) -> Field:
    """A method's hyperparameter as a form field, shown only while a method that takes it is chosen.

    A field whose default the method derives (None) shows 0, which means "derive it".
    """
    kind = "dropdown" if spec.choices else {"int": "int", "float": "number"}.get(spec.kind, "text")
    default = 0 if spec.default is None else spec.default
    return Field(spec.name, kind, default, "method", spec.choices, methods=methods_using(spec.name))


FIELDS = (
    Field("stage", "dropdown", "sft", "data", ("sft", "pt")),
    Field("dataset", "multiselect", ["qllm_tasks"], "data"),
    Field("dataset_dir", "text", str(DATA_DIR), "data"),
    Field("tokenized_path", "text", "", "data"),
    Field("overwrite_cache", "checkbox", True, "data"),
    Field("cutoff_len", "int", 1024, "data"),
    Field("max_samples", "int", 1000, "data"),
    Field("val_size", "number", 0.1, "data"),
    Field("preprocessing_num_workers", "int", min(16, os.cpu_count() or 1), "data"),  # never more than the cores
    Field("learning_rate", "text", "2e-3", "optim"),
    Field("num_train_epochs", "number", 1.0, "optim"),
    Field("per_device_train_batch_size", "int", 4, "optim"),
    Field("gradient_accumulation_steps", "int", 2, "optim"),
    Field("lr_scheduler_type", "dropdown", "cosine", "optim", ("cosine", "linear", "constant", "constant_with_warmup")),
    Field("warmup_steps", "int", 20, "optim"),
    Field("lora_target", "text", "q_proj,v_proj", "optim"),
    Field("compute_type", "dropdown", "float32", "optim", tuple(COMPUTE_TYPES)),
    Field("gradient_checkpointing", "checkbox", False, "optim"),
    Field("devices", "text", "", "optim"),
    Field("sharding", "dropdown", "none", "optim", tuple(SHARDING)),
    *(method_field(spec) for spec in METHOD_FIELDS.values()),
    Field("evaluation_strategy", "dropdown", "steps", "eval", ("no", "steps", "epoch")),
    Field("eval_steps", "int", 50, "eval"),
    Field("per_device_eval_batch_size", "int", 8, "eval"),
    Field("load_best_model_at_end", "checkbox", False, "eval"),
    Field("output_name", "text", "", "output"),
    Field("logging_steps", "int", 5, "output"),
    Field("save_steps", "int", 100, "output"),
    Field("plot_loss", "checkbox", True, "output"),
    Field("overwrite_output_dir", "checkbox", False, "output"),
    Field("extra_args", "code", "{}", "output"),
)
FIELD_KEYS = [f.key for f in FIELDS]
GROUPS = ("data", "optim", "method", "eval", "output")  # the form's sections, in order; each is a Field.group
GROUP_OF = {f.key: f"group_{f.group}" for f in FIELDS}  # field -> the element (and locale key) of its section
BOARD_ONLY = ("output_name", "extra_args", "compute_type", "devices", "sharding")


def default_run_name() -> str:
    return time.strftime("run-%Y%m%d-%H%M%S")


def _number(key: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ArgumentError(key, f"'{value}' is not a number") from None


# Paths and choices the form and the top bar own: "Extra arguments" may not move them elsewhere.
FORM_OWNED = {
    "output_dir",
    "overwrite_output_dir",
    "tokenized_path",
    "logging_dir",
    "cache_dir",
    "model_name_or_path",
    "adapter_name_or_path",
    "finetuning_type",
    "dataset",
    "dataset_dir",
}


def quantization_bit(choice: str | None) -> int | None:
    """The top bar's Quantization -> `--quantization_bit` (None: a float base)."""
    return None if choice in (None, "", "none") else int(choice)


def form_to_args(
    values: dict[str, Any], model: str, method: str, template: str | None, quantization: str | None = "none"
) -> dict[str, Any]:
    """Validated `qllm train` arguments for the form's values; ArgumentError names the field.

    Sharding's flags are added by `sharding_args`: whether they can run depends on the launch.
    """
    name = (values.get("output_name") or "").strip()
    plain_name(name, "output_name")
    if not values.get("dataset"):
        raise ArgumentError("dataset", "select at least one dataset")
    resolve_model_path(model)
    try:
        extra = json.loads(values.get("extra_args") or "{}")
    except json.JSONDecodeError as err:
        raise ArgumentError(
            "extra_args", f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    if not isinstance(extra, dict):
        raise ArgumentError("extra_args", 'must be a JSON object, e.g. {"seed": 1}')
    owned = sorted(FORM_OWNED & set(extra))
    if owned:
        raise ArgumentError(
            "extra_args", f"'{owned[0]}' is set by the form and the top bar (where the board may write); remove it here"
        )

    args: dict[str, Any] = {
        "model_name_or_path": model,
        "finetuning_type": method,
        "template": template or None,
        "quantization_bit": quantization_bit(quantization),
        "do_train": True,
    }
    for field in FIELDS:
        if field.key in BOARD_ONLY or (field.methods and method not in field.methods):
            continue
        value = values.get(field.key, field.default)
        if field.kind in ("number", "int"):
            value = _number(field.key, value)
            value = int(value) if field.kind == "int" and float(value).is_integer() else value
        args[field.key] = value
    compute_flag = COMPUTE_TYPES.get(values.get("compute_type") or "float32")
    if compute_flag:
        args[compute_flag] = True
    args["learning_rate"] = _number("learning_rate", args["learning_rate"])
    args["dataset"] = ",".join(values["dataset"])
    args["tokenized_path"] = args["tokenized_path"] or None
    if args["tokenized_path"]:
        args["tokenized_path"] = str(inside_saves(args["tokenized_path"], "tokenized_path"))
    args["max_samples"] = args["max_samples"] or None
    for key, spec in METHOD_FIELDS.items():
        if spec.default is None and key in args:
            args[key] = args[key] or None  # 0 or empty: the method derives it
    if args["evaluation_strategy"] == "no":
        args.pop("eval_steps")
        args["load_best_model_at_end"] = False
    args["output_dir"] = str(runs_root(model, method) / name)
    args.update(extra)
    args = {k: v for k, v in args.items() if v is not None}

    from qllm.hparams.parser import get_train_args  # loads transformers: only when a run is checked

    parsed = get_train_args(dict(args))
    get_dataset_attrs(parsed[1].dataset_names, parsed[1].dataset_dir)  # the data folder holds dataset_info.json
    check_hub_model(model, parsed[0].cache_dir)  # it may ask the network
    if not parsed[0].adapter_name_or_path:  # a new adapter: its targets and the limits that depend on layer shapes
        from qllm.adapters.attach import check_new_adapter

        check_new_adapter(model, parsed[3], parsed[0].cache_dir)
    try:
        plan_output_dir(args["output_dir"], parsed[2].overwrite_output_dir, parsed[2].resume_finished)
    except ArgumentError as err:
        if "finished run" not in err.message:
            raise
        raise ArgumentError(
            "output_name",
            f"'{name}' holds a finished run, left as it is: tick Overwrite run to replace it, "
            'add {"resume_finished": true} to Extra arguments to continue it, or choose a new name',
        ) from None
    return args


TOP_KEYS = ("model_name_or_path", "finetuning_type", "template", "quantization_bit")


def sharding_args(choice: str | None, processes: int) -> dict[str, Any]:
    """The Sharding choice's `qllm train` flags, checked for a launch of ``processes`` (the CLI's own check)."""
    from qllm.hparams.training_args import check_sharding

    flags = SHARDING.get(choice or "none", {})
    try:
        check_sharding(flags.get("fsdp"), flags.get("deepspeed"), processes)
    except ArgumentError as err:
        raise ArgumentError("sharding", err.message) from None
    return flags


def parse_devices(text: str | None) -> tuple[int, str | None]:
    """The Devices field -> (processes, CUDA_VISIBLE_DEVICES or None to leave it).

    Empty or `auto`: every visible GPU (one process each), or one process on a CPU-only
    machine; `0,1`: those GPUs; `cpu`: one CPU process; `cpu:N`: N CPU processes (gloo).
    """
    import torch

    text = (text or "").strip().lower()
    gpus = torch.cuda.device_count()
    if text in ("", "auto"):
        return max(gpus, 1), None
    cores = os.cpu_count() or 1
    if text.startswith("cpu"):
        count = text.partition(":")[2] or "1"
        if not count.isdigit() or not 1 <= int(count) <= cores:
            raise ArgumentError("devices", f"'{text}': cpu:N runs 1 to {cores} processes on this machine")
        return int(count), ""  # no GPU visible: the processes train on the CPU
    ids = split_names(text)
    if not ids or not all(i.isdigit() for i in ids) or len(set(ids)) != len(ids):
        raise ArgumentError("devices", f"'{text}' is not a list of distinct GPU numbers; e.g. 0,1 or cpu:2")
    if gpus == 0:
        raise ArgumentError("devices", f"'{text}': this machine has no CUDA GPU; use cpu or cpu:N")
    missing = [i for i in ids if int(i) >= gpus]
    if missing:
        raise ArgumentError("devices", f"GPU {missing[0]} does not exist; this machine shows GPUs 0 to {gpus - 1}")
    return len(ids), ",".join(ids)


def command_line(args: dict[str, Any], processes: int = 1) -> str:
    """The `python -m qllm train` line that runs these arguments (under torchrun for several processes)."""
    launcher = ["torchrun", "--nproc_per_node", str(processes)] if processes > 1 else ["python"]
    tokens = [*launcher, "-m", "qllm", "train"]
    for key, value in args.items():
        if value is True:
            tokens.append(f"--{key}")
        elif value is not False:
            tokens += [f"--{key}", str(value)]
    return shlex.join(tokens)


def args_file(args: dict[str, Any]) -> Path:
    return Path(args["output_dir"]) / TRAIN_ARGS
