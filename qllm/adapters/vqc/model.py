from __future__ import annotations

from qllm.adapters.circuit.tuner import CircuitTuner
from qllm.adapters.vqc.layer import VQCLinear


class VQCModel(CircuitTuner):
    """Wraps a model's target Linears with pyvqnet-simulated circuit adapters."""

    prefix = "vqc_"
    tuner_layer_cls = VQCLinear
