from __future__ import annotations

from qllm.adapters.tq.layer import TQLinear
from qllm.adapters.tuner import AdapterTuner


class TQModel(AdapterTuner):
    """Wraps a model's target Linears with torchquantum-simulated circuit adapters."""

    prefix = "tq_"
    tuner_layer_cls = TQLinear
