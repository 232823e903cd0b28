"""`quanTA`: quantum-informed tensor adaptation (arXiv 2406.00132)."""

from qllm.adapters.quanta.config import QuanTAConfig
from qllm.adapters.quanta.layer import QuanTALinear, TensorAdapter
from qllm.adapters.quanta.model import QuanTAModel

__all__ = ["QuanTAConfig", "QuanTALinear", "QuanTAModel", "TensorAdapter"]
