"""A method added from outside the package, as a new method is added: one record, one config/layer/tuner.

`toybias`: y = W x + s * b, with b a trainable vector (zero at the start) and s the new
flag `--bias_scale`.  Importing this module registers it; nothing in `qllm` names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from peft.utils import PeftType
from torch import nn

from qllm.adapters.config import TargetedConfig
from qllm.adapters.layer import AdapterLinear
from qllm.adapters.tuner import AdapterTuner
from qllm.methods import Method, MethodField, check_config, register


@dataclass
class BiasConfig(TargetedConfig):
    bias_scale: float = field(default=1.0, metadata={"help": "The bias is multiplied by this."})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = PeftType.TOYBIAS
        check_config(self)


class BiasAdapter(nn.Module):
    def __init__(self, out_features: int, config: BiasConfig) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = config.bias_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.scale * self.bias).expand(*x.shape[:-1], -1)


class BiasLinear(AdapterLinear):
    adapter_layer_names = ("toybias_vector",)

    def make_adapter(self, config: BiasConfig) -> nn.Module:
        return BiasAdapter(self.out_features, config)


class BiasModel(AdapterTuner):
    prefix = "toybias_"
    tuner_layer_cls = BiasLinear


register(
    Method(
        name="toybias",
        peft_type="TOYBIAS",
        config_class="toy_method:BiasConfig",
        model_class="toy_method:BiasModel",
        mergeable=False,
        fields={"bias_scale": "bias_scale"},
        summary={"en": "test", "zh": "测试"},
        not_mergeable_why={"en": "a test method", "zh": "测试方法"},
    ),
    new_fields=(
        MethodField(
            "bias_scale",
            "float",
            1.0,
            "toybias: the bias is multiplied by this.",
            {"en": "Bias scale", "zh": "偏置缩放"},
            minimum=0,
        ),
    ),
)
