"""`FinetuningArguments`: the stage, the method, and every method's flags, built from `qllm.methods`.

The method flags are not written here: `MethodArguments` is generated from the records'
fields, so a registered method's flags reach the CLI, YAML configs and the board with no
edit in this module.  Their limits are checked by building the method's peft config,
whose `__post_init__` holds the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, make_dataclass
from typing import Any, Literal

from qllm.errors import ArgumentError, InvalidField
from qllm.hparams.lists import split_names
from qllm.methods import FIELDS, METHODS, Method, MethodField, config_values, find_method, import_object, methods_using

_FLAG_TYPES = {"int": int, "float": float, "str": str, "int_list": str}  # a list is one comma-separated flag


def _dataclass_field(spec: MethodField) -> tuple[str, Any, Any]:
    kind: Any = Literal[spec.choices] if spec.choices else _FLAG_TYPES[spec.kind]
    if spec.default is None:
        kind = kind | None
    used_by = ", ".join(methods_using(spec.name))
    return spec.name, kind, field(default=spec.default, metadata={"help": f"{spec.help} [{used_by}]"})


MethodArguments = make_dataclass("MethodArguments", [_dataclass_field(spec) for spec in FIELDS.values()])


@dataclass
class FinetuningArguments(MethodArguments):
    """How the model is adapted: stage, method, and each method's hyperparameters (see qllm.methods)."""

    stage: Literal["sft", "pt"] = field(
        default="sft",
        metadata={"help": "sft: instruction tuning with the prompt masked; pt: plain-text language modelling."},
    )
    finetuning_type: str = field(
        default="lora",
        metadata={"help": f"Adapter method: {', '.join(METHODS)}."},
    )
    lora_target: str = field(
        default="q_proj,v_proj",
        metadata={"help": "Linear layers to adapt, comma-separated, or `all` (every linear but the output head)."},
    )
    plot_loss: bool = field(default=False, metadata={"help": "Save training_loss.png at the end."})
    circuit_log: bool = field(
        default=True,
        metadata={
            "help": "vqc/tq: every logging step, write what the circuits learn (readout, entanglement, angle drift, "
            "gradient norms) to circuit_log.jsonl; false turns it off."
        },
    )

    def __post_init__(self) -> None:
        method = find_method(self.finetuning_type)
        if method is None:
            raise ArgumentError(
                "finetuning_type", f"unknown method '{self.finetuning_type}'; choose one of {', '.join(METHODS)}"
            )
        self.finetuning_type = method.name
        self.peft_config()  # the method's config checks every value it takes

    @property
    def method(self) -> Method:
        return METHODS[self.finetuning_type]

    @property
    def target_modules(self) -> list[str] | str:
        names = split_names(self.lora_target)
        return "all-linear" if names == ["all"] else names

    def peft_config(self):
        """The method's peft config with every hyperparameter from these arguments; bad values raise ArgumentError."""
        from peft import TaskType

        config_class = import_object(self.method.config_class)
        try:
            values = config_values(self.method, vars(self))
            return config_class(task_type=TaskType.CAUSAL_LM, target_modules=self.target_modules, **values)
        except InvalidField as err:
            raise self.argument_error(err) from None

    def argument_error(self, err: InvalidField) -> ArgumentError:
        """A config's complaint about one of its fields, as the flag that set it."""
        return ArgumentError(self.method.argument_for(err.field), err.message)
