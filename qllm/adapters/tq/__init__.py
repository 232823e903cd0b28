"""`tq`: the same circuit as `vqc`, simulated with torchquantum (the two cross-check)."""

from qllm.adapters.tq.config import TQConfig
from qllm.adapters.tq.layer import TQLinear
from qllm.adapters.tq.model import TQModel

__all__ = ["TQConfig", "TQLinear", "TQModel"]
