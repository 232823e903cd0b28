"""`vqc`: the circuit of DESIGN.md simulated with pyvqnet."""

from qllm.adapters.vqc.config import VQCConfig
from qllm.adapters.vqc.layer import CircuitAdapter, VQCLinear
from qllm.adapters.vqc.model import VQCModel

__all__ = ["CircuitAdapter", "VQCConfig", "VQCLinear", "VQCModel"]
