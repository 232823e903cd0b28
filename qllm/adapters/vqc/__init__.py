"""`vqc`: the circuit of docs/adapters.md simulated with pyvqnet."""

from qllm.adapters.vqc.config import VQCConfig
from qllm.adapters.vqc.layer import VQCLinear
from qllm.adapters.vqc.model import VQCModel

__all__ = ["VQCConfig", "VQCLinear", "VQCModel"]
