from __future__ import annotations

from qllm.adapters.qpa.layer import QPALinear
from qllm.adapters.tuner import AdapterTuner


class QPAModel(AdapterTuner):
    """Wraps a model's target Linears with QPA adapters (a generated LoRA update: mergeable)."""

    prefix = "qpa_"
    tuner_layer_cls = QPALinear
