from __future__ import annotations

from qllm.adapters.quanta.layer import QuanTALinear
from qllm.adapters.tuner import AdapterTuner


class QuanTAModel(AdapterTuner):
    """Wraps a model's target Linears with quanTA tensor adapters (mergeable)."""

    prefix = "quanta_"
    tuner_layer_cls = QuanTALinear
