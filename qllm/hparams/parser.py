"""One parser for CLI flags, YAML/JSON files and dicts.

Every source is turned into CLI tokens and read by transformers' `HfArgumentParser`, so
types, aliases (`--do-train`, `--evaluation_strategy`) and errors are the same whichever
way the arguments arrive: a YAML value `5e-5` is read by the same `float()` as the flag.
Errors become one `ArgumentError` line instead of argparse's usage dump.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from transformers import HfArgumentParser

from qllm.errors import ArgumentError
from qllm.hparams.command_parser import one_line_error
from qllm.hparams.data_args import DataArguments
from qllm.hparams.evaluation_args import EvaluationArguments
from qllm.hparams.export_args import ExportArguments
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.hparams.generating_args import GeneratingArguments
from qllm.hparams.measurement_args import MeasurementArguments
from qllm.hparams.model_args import ModelArguments
from qllm.hparams.training_args import TrainingArguments
from qllm.model.quantization import check_sharded_quantization

Source = Sequence[str] | dict[str, Any] | None
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
# argparse reads "-5e-5" after a flag as another flag (only -5 and -0.5 look like numbers to it)
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def attach_negative_values(argv: list[str]) -> list[str]:
    """`--flag -5e-5` -> `--flag=-5e-5`, so that the value reaches the flag's own check."""
    joined: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if token.startswith("--") and "=" not in token and NEGATIVE_NUMBER.match(following):
            joined.append(f"{token}={following}")
            index += 2
            continue
        joined.append(token)
        index += 1
    return joined


class _Parser(HfArgumentParser):
    def __init__(self, dataclass_types) -> None:
        # no abbreviations: `learning_rat: 1e-4` in a config must be named as a typo, not read as a prefix
        super().__init__(dataclass_types, allow_abbrev=False)

    def closest_flag(self, name: str) -> str | None:
        """The known flag nearest to a mistyped one (`learnig_rate` -> `--learning_rate`), if any is near."""
        flags = [option for option in self._option_string_actions if option.startswith("--")]
        found = difflib.get_close_matches(f"--{name}", flags, n=1, cutoff=0.75)
        return found[0] if found else None

    def error(self, message: str):  # argparse would print the whole usage and exit
        one_line_error(message)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON file of arguments, as a dict (errors name the file and position)."""
    path = Path(path)
    if not path.is_file():
        raise ArgumentError("config", f"no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ArgumentError(
            "config", f"{path} is not valid {path.suffix[1:].upper()}: {str(err).splitlines()[0]}"
        ) from None
    if not isinstance(data, dict):
        raise ArgumentError("config", f"{path} must hold a mapping of argument names to values")
    return data


def dict_to_argv(parser: HfArgumentParser, values: dict[str, Any]) -> list[str]:
    """CLI tokens for a dict; lists become separate tokens or a comma list, as each flag expects."""
    nargs = {action.dest: action.nargs for action in parser._actions}
    argv: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        argv.append(f"--{key}")
        if isinstance(value, bool):
            argv.append(str(value).lower())
        elif isinstance(value, (list, tuple)):
            items = [str(item) for item in value]
            argv += items if nargs.get(key) in ("+", "*") else [",".join(items)]
        elif isinstance(value, dict):
            argv.append(json.dumps(value))
        else:
            argv.append(str(value))
    return argv


def parse(dataclass_types: tuple[type, ...], source: Source) -> tuple[Any, ...]:
    """Instances of ``dataclass_types`` from CLI tokens, a config file path (+ CLI overrides) or a dict."""
    parser = _Parser(dataclass_types)
    if isinstance(source, dict):
        argv = dict_to_argv(parser, source)
    else:
        argv = list(source or [])
        if argv and argv[0].endswith(CONFIG_SUFFIXES) and not argv[0].startswith("-"):
            argv = dict_to_argv(parser, read_config_file(argv[0])) + argv[1:]
    namespace, unknown = parser.parse_known_args(attach_negative_values(argv))
    if unknown:
        flag = next((token for token in unknown if token.startswith("-")), unknown[0]).lstrip("-").split("=")[0]
        closest = parser.closest_flag(flag)
        hint = f"did you mean {closest}? " if closest else ""
        raise ArgumentError(flag, f"unknown argument; {hint}(`python -m qllm <command> --help` lists them all)")
    outputs = []
    for dtype in dataclass_types:
        names = {f.name for f in fields(dtype) if f.init}
        try:
            outputs.append(dtype(**{k: v for k, v in vars(namespace).items() if k in names}))
        except ArgumentError:
            raise
        except ValueError as err:  # transformers' own consistency checks
            raise ArgumentError("arguments", str(err).strip().splitlines()[0]) from None
    return tuple(outputs)


TrainArgs = tuple[ModelArguments, DataArguments, TrainingArguments, FinetuningArguments]
TRAIN_DATACLASSES = (ModelArguments, DataArguments, TrainingArguments, FinetuningArguments)


def train_argv(values: dict[str, Any]) -> list[str]:
    """`qllm train` flags for a dict of its arguments (the tokens the CLI would have received)."""
    return dict_to_argv(_Parser(TRAIN_DATACLASSES), values)


def _positive(value: float | None, name: str, example: str) -> None:
    if value is not None and value <= 0:
        raise ArgumentError(name, f"must be positive (got {value}); e.g. --{name} {example}")


def get_train_args(source: Source) -> TrainArgs:
    """Parsed and checked arguments of `qllm train`; nothing on disk is touched."""
    model_args, data_args, training_args, finetuning_args = parse(TRAIN_DATACLASSES, source)
    _positive(training_args.learning_rate, "learning_rate", "5e-5")
    _positive(training_args.per_device_train_batch_size, "per_device_train_batch_size", "1")
    _positive(training_args.per_device_eval_batch_size, "per_device_eval_batch_size", "1")
    _positive(training_args.gradient_accumulation_steps, "gradient_accumulation_steps", "8")
    _positive(data_args.cutoff_len, "cutoff_len", "1024")
    _positive(data_args.max_samples, "max_samples", "1000")
    if training_args.max_steps <= 0:
        _positive(training_args.num_train_epochs, "num_train_epochs", "3.0")
    if data_args.val_size < 0 or (data_args.val_size >= 1 and not float(data_args.val_size).is_integer()):
        raise ArgumentError(
            "val_size", f"must be a fraction in [0, 1) or a whole number of examples (got {data_args.val_size})"
        )
    if training_args.eval_strategy != "no" and data_args.val_size == 0:
        raise ArgumentError(
            "val_size",
            f"evaluation_strategy={training_args.eval_strategy.value} needs a validation split; "
            "set --val_size 0.1 or --evaluation_strategy no",
        )
    if not data_args.dataset_names:
        raise ArgumentError("dataset", "is required for training; e.g. --dataset qllm_tasks")
    check_sharded_quantization(model_args.quantization_bit, training_args.shards_parameters)
    return model_args, data_args, training_args, finetuning_args


EVAL_DATACLASSES = (ModelArguments, DataArguments, EvaluationArguments, FinetuningArguments, MeasurementArguments)


def eval_argv(values: dict[str, Any]) -> list[str]:
    """`qllm eval` flags for a dict of its arguments."""
    return dict_to_argv(_Parser(EVAL_DATACLASSES), values)


InferArgs = tuple[ModelArguments, DataArguments, FinetuningArguments, GeneratingArguments, MeasurementArguments]
EvalArgs = tuple[ModelArguments, DataArguments, EvaluationArguments, FinetuningArguments, MeasurementArguments]
ExportArgs = tuple[ModelArguments, DataArguments, ExportArguments, FinetuningArguments]


def get_infer_args(source: Source) -> InferArgs:
    """Arguments of `qllm chat` (quantum-llm's cli.sh flags and sampling settings)."""
    return parse(
        (ModelArguments, DataArguments, FinetuningArguments, GeneratingArguments, MeasurementArguments), source
    )


def get_eval_args(source: Source) -> EvalArgs:
    """Arguments of `qllm eval` (quantum-llm's eval.sh flags and the evaluator's)."""
    return parse(EVAL_DATACLASSES, source)


def get_export_args(source: Source) -> ExportArgs:
    return parse((ModelArguments, DataArguments, ExportArguments, FinetuningArguments), source)
