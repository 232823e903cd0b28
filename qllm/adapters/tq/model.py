from __future__ import annotations

from qllm.adapters.circuit.tuner import CircuitTuner
from qllm.adapters.tq.layer import TQLinear


class TQModel(CircuitTuner):
    """Wraps a model's target Linears with torchquantum-simulated circuit adapters."""

    prefix = "tq_"
    tuner_layer_cls = TQLinear
