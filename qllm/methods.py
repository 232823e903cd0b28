"""One record per fine-tuning method: the single home of everything the project knows about a method.

Torch-free, so the board and the parser read it without loading the ML stack.  Derived
from `METHODS` and `FIELDS`: the method flags of `qllm train` (`FinetuningArguments`), the
peft dispatch and registration (`qllm.adapters`), the method of a saved adapter
(`method_for_peft_type`), export's refusal of unmergeable adapters, and the board's method
choices, fields and labels.  Limits are checked once, in each peft config's
`__post_init__` (`check_config`); the CLI turns that error into its one-line message.

Adding a method: one `Method` record (with any new `MethodField`s) passed to `register`,
plus one folder `qllm/adapters/<name>/` holding its peft config, layer and tuner.  Register
before `qllm.hparams` is imported (its argument dataclass is built from these records).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qllm.errors import InvalidField

MAX_QUBITS = 16  # statevectors hold 2^n amplitudes


@dataclass(frozen=True)
class MethodField:
    """One hyperparameter: a `qllm train` flag, a board field, and the limits its value must keep."""

    name: str  # the flag, --name
    kind: str  # "int", "float", "str" or "int_list" (a comma list on the CLI, a list in the peft config)
    default: Any  # None: the method derives it (Method.derived)
    help: str
    label: dict[str, str]  # language -> the board's label
    info: dict[str, str] = field(default_factory=dict)  # language -> the board's help line
    minimum: float | None = None
    maximum: float | None = None
    maximum_excluded: bool = False  # [minimum, maximum) instead of [minimum, maximum]
    choices: tuple[str, ...] = ()

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this field, in words; None when it is fine."""
        if value is None:
            return None if self.default is None else "is required"
        if self.choices:
            return None if value in self.choices else f"must be one of {', '.join(self.choices)} (got {value})"
        values = value if self.kind == "int_list" else [value]
        for item in values:
            low = self.minimum is not None and item < self.minimum
            high = self.maximum is not None and (item >= self.maximum if self.maximum_excluded else item > self.maximum)
            if low or high:
                return f"must be {self._range()} (got {value})"
        return None

    def _range(self) -> str:
        if self.maximum is None:
            return f"at least {self.minimum:g}"
        closing = ")" if self.maximum_excluded else "]"
        return f"in [{self.minimum:g}, {self.maximum:g}{closing}"


@dataclass(frozen=True)
class Method:
    """A fine-tuning method: its names, its peft classes, and which fields it takes."""

    name: str  # as typed on the CLI and shown on the board
    peft_type: str  # the value of peft's PeftType (and `peft_type` in adapter_config.json)
    config_class: str  # "module:Class" of its peft config, imported when first needed
    model_class: str | None  # "module:Class" of its peft tuner; None for peft's own methods (already registered)
    mergeable: bool  # a linear update that `qllm export` can fold into the base weights
    fields: dict[str, str]  # argument name -> the peft config's field it sets
    summary: dict[str, str]  # language -> one or two words on what it is, for the board's method picker
    aliases: tuple[str, ...] = ()
    derived: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)  # config field -> default
    not_mergeable_why: dict[str, str] = field(default_factory=dict)  # language -> why `qllm export` refuses it
    # "module:function" (config, [(in_features, out_features), ...]) -> None, raising InvalidField: the limits that
    # depend on layer shapes, checked by each layer and, before a run writes anything, on all the targets' shapes
    layer_check: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def argument_for(self, config_key: str) -> str:
        """The flag that sets a config field (the config's own name when no flag does)."""
        return next((arg for arg, key in self.fields.items() if key == config_key), config_key)


FIELDS: dict[str, MethodField] = {}
METHODS: dict[str, Method] = {}


def register(method: Method, new_fields: tuple[MethodField, ...] = ()) -> Method:
    """Add a method (and fields no earlier method has); also to peft when peft is loaded already."""
    for spec in new_fields:
        FIELDS[spec.name] = spec
    unknown = [name for name in method.fields if name not in FIELDS]
    if unknown:
        raise ValueError(f"method {method.name} uses undeclared fields {unknown}")
    METHODS[method.name] = method
    if "peft" in sys.modules and method.model_class is not None:
        from qllm.adapters.registry import register_with_peft

        register_with_peft(method)
    return method


def find_method(name: str) -> Method | None:
    """The method called ``name``, ignoring case (`quanta`, `QUANTA` and `quanTA` are one method)."""
    wanted = name.lower()
    return next((m for m in METHODS.values() if wanted in (n.lower() for n in m.names)), None)


def method_for_peft_type(peft_type: str) -> Method | None:
    return next((m for m in METHODS.values() if m.peft_type == peft_type), None)


def methods_using(field_name: str) -> tuple[str, ...]:
    return tuple(m.name for m in METHODS.values() if field_name in m.fields)


def import_object(path: str) -> Any:
    """`"package.module:Name"` -> the object (the records name classes without importing torch)."""
    import importlib

    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def config_values(method: Method, arguments: dict[str, Any]) -> dict[str, Any]:
    """Peft config keyword arguments from argument values (flag names); lists parsed, derived defaults filled."""
    from qllm.hparams.lists import parse_int_list

    values: dict[str, Any] = {}
    for arg_name, config_key in method.fields.items():
        value = arguments.get(arg_name, FIELDS[arg_name].default)
        if FIELDS[arg_name].kind == "int_list" and isinstance(value, str):
            try:
                value = parse_int_list(value)
            except ValueError:
                raise InvalidField(
                    config_key, f"'{value}' is not a comma-separated list of integers, e.g. {FIELDS[arg_name].default}"
                ) from None
        values[config_key] = value
    for config_key, derive in method.derived.items():
        if values.get(config_key) is None:
            values[config_key] = derive(values)
    return values


def check_config(config: Any) -> None:
    """The limits of every field of a method's peft config; called by each config's `__post_init__`."""
    method = method_for_peft_type(str(getattr(config.peft_type, "value", config.peft_type)))
    if method is None:
        return
    for arg_name, config_key in method.fields.items():
        problem = FIELDS[arg_name].problem(getattr(config, config_key))
        if problem:
            raise InvalidField(config_key, problem)


# --- the fields ---------------------------------------------------------------------------
for _spec in (
    MethodField(
        "lora_rank",
        "int",
        8,
        "LoRA rank r (lora; qpa: the rank of the generated update).",
        {"en": "LoRA rank", "zh": "LoRA 秩"},
        minimum=1,
    ),
    MethodField(
        "lora_alpha",
        "float",
        None,
        "Update scale numerator (lora/qpa: alpha/r, vqc/tq: alpha/n_qubits); default 2*r or 2*n.",
        {"en": "Alpha", "zh": "缩放系数 Alpha"},
        {
            "en": "scale numerator; 0 = 2 x rank (LoRA, QPA) or 2 x qubits (vqc/tq)",
            "zh": "缩放系数分子；0 表示 LoRA/QPA 取 2 倍秩、vqc/tq 取 2 倍比特数",
        },
        minimum=0,
    ),
    MethodField(
        "lora_dropout",
        "float",
        0.0,
        "Dropout on the adapter's input.",
        {"en": "Adapter dropout", "zh": "适配器 dropout"},
        minimum=0,
        maximum=1,
        maximum_excluded=True,
    ),
    MethodField(
        "n_qubits",
        "int",
        8,
        f"vqc/tq: qubits of the circuit (1-{MAX_QUBITS}).",
        {"en": "Qubits", "zh": "量子比特数"},
        {
            "en": f"circuit width, 1-{MAX_QUBITS}; 8 (quantum-llm's value) is a good first choice, 4 runs faster",
            "zh": f"线路宽度 1-{MAX_QUBITS}；首选 8（quantum-llm 的取值），4 更快",
        },
        minimum=1,
        maximum=MAX_QUBITS,
    ),
    MethodField(
        "q_depth",
        "int",
        1,
        "vqc/tq: circuit layers (data re-uploading); qpa: blocks of RY layer + CNOT chain.",
        {"en": "Circuit depth", "zh": "线路深度"},
        {
            "en": "vqc/tq: layers, each re-uploading the data; start with 1 (quantum-llm's value), 2 for more "
            "capacity. qpa: blocks of RY + CNOT (the official run used 8)",
            "zh": "vqc/tq：层数，每层重新编码数据；先用 1（quantum-llm 的取值），需要更强表达力时用 2。"
            "qpa：RY + CNOT 块数（官方实验用 8）",
        },
        minimum=1,
    ),
    MethodField(
        "qpa_chunk_size",
        "int",
        128,
        "qpa: weights generated per circuit probability (the mapping network's output width).",
        {"en": "QPA chunk size", "zh": "QPA 分块大小"},
        {
            "en": "weights per chunk; the circuit has ceil(log2(chunks)) qubits; smaller = more qubits, fewer weights",
            "zh": "每块生成的权重数；线路比特数为 ceil(log2(块数))；越小比特越多、参数越少",
        },
        minimum=1,
    ),
    MethodField(
        "qpa_hidden",
        "int_list",
        "16,16",
        "qpa: widths of the mapping network's layers, comma-separated (official: 32,64,128,128,64,32,32).",
        {"en": "QPA mapping widths", "zh": "QPA 映射网络宽度"},
        {
            "en": "e.g. 16,16 (empty: one layer); the official GPT-2 run used 32,64,128,128,64,32,32",
            "zh": "例如 16,16（留空：单层）；官方 GPT-2 实验用 32,64,128,128,64,32,32",
        },
        minimum=1,
    ),
    MethodField(
        "q_d",
        "int",
        4,
        "quanTA: number of tensor axes.",
        {"en": "Tensor axes (q_d)", "zh": "张量维数 q_d"},
        {"en": "number of tensor axes", "zh": "张量分解的维数"},
        minimum=2,
    ),
    MethodField(
        "per_dim_features",
        "int_list",
        "16,8,4,2",
        "quanTA: size of each axis, comma-separated; their product must cover the layer width.",
        {"en": "Per-axis sizes", "zh": "各维大小"},
        {"en": "e.g. 16,8,4,2; product >= layer width", "zh": "例如 16,8,4,2；乘积需不小于层宽"},
        minimum=1,
    ),
    MethodField(
        "quanta_init",
        "str",
        "frozen_copy",
        "quanTA: exact-zero start as in the paper (T - frozen copy) or with the last tensor zero (faster).",
        {"en": "quanTA start", "zh": "quanTA 初始化"},
        {"en": "frozen_copy (paper) or zero_last (faster)", "zh": "frozen_copy（论文）或 zero_last（更快）"},
        choices=("frozen_copy", "zero_last"),
    ),
):
    FIELDS[_spec.name] = _spec

# --- the methods --------------------------------------------------------------------------
CIRCUIT_NOT_MERGEABLE = {
    "en": "a measured circuit is not a linear update of the weights and cannot be merged; "
    "use it as base + adapter (qllm chat / eval)",
    "zh": "测量后的量子线路不是权重的线性更新，无法合并；请以基座模型加适配器的方式使用（qllm chat / eval）",
}
for _method in (
    Method(
        name="lora",
        peft_type="LORA",
        config_class="qllm.adapters.lora:CheckedLoraConfig",
        model_class=None,
        mergeable=True,
        fields={"lora_rank": "r", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout"},
        summary={"en": "baseline", "zh": "基线"},
        derived={"lora_alpha": lambda values: 2 * values["r"]},
    ),
    Method(
        name="vqc",
        peft_type="VQC",
        config_class="qllm.adapters.vqc:VQCConfig",
        model_class="qllm.adapters.vqc:VQCModel",
        mergeable=False,
        fields={"n_qubits": "n_qubits", "q_depth": "q_depth", "lora_alpha": "alpha", "lora_dropout": "dropout"},
        summary={"en": "pyvqnet", "zh": "pyvqnet"},
        derived={"alpha": lambda values: 2 * values["n_qubits"]},
        not_mergeable_why=CIRCUIT_NOT_MERGEABLE,
    ),
    Method(
        name="tq",
        peft_type="TQ",
        config_class="qllm.adapters.tq:TQConfig",
        model_class="qllm.adapters.tq:TQModel",
        mergeable=False,
        fields={"n_qubits": "n_qubits", "q_depth": "q_depth", "lora_alpha": "alpha", "lora_dropout": "dropout"},
        summary={"en": "torchquantum", "zh": "torchquantum"},
        derived={"alpha": lambda values: 2 * values["n_qubits"]},
        not_mergeable_why=CIRCUIT_NOT_MERGEABLE,
    ),
    Method(
        name="quanTA",
        peft_type="QUANTA",
        config_class="qllm.adapters.quanta:QuanTAConfig",
        model_class="qllm.adapters.quanta:QuanTAModel",
        mergeable=True,
        aliases=("quanta",),
        fields={
            "q_d": "q_d",
            "per_dim_features": "per_dim_features",
            "quanta_init": "init_mode",
            "lora_dropout": "dropout",
        },
        summary={"en": "tensors", "zh": "张量"},
        layer_check="qllm.adapters.quanta.layer:check_layers",
    ),
    Method(
        name="qpa",
        peft_type="QPA",
        config_class="qllm.adapters.qpa:QPAConfig",
        model_class="qllm.adapters.qpa:QPAModel",
        mergeable=True,
        fields={
            "lora_rank": "r",
            "lora_alpha": "alpha",
            "lora_dropout": "dropout",
            "q_depth": "q_depth",
            "qpa_chunk_size": "chunk_size",
            "qpa_hidden": "hidden_sizes",
        },
        summary={"en": "generated LoRA", "zh": "量子生成 LoRA"},
        derived={"alpha": lambda values: 2 * values["r"]},
        layer_check="qllm.adapters.qpa.layer:check_layers",
    ),
):
    METHODS[_method.name] = _method  # peft learns of them when it loads (see qllm/__init__.py)
