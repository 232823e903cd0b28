"""`qpa`: quantum parameter adaptation (Liu, Yang, Goan, Hsieh, ICLR 2025): a circuit generates LoRA's weights."""

from qllm.adapters.qpa.config import QPAConfig
from qllm.adapters.qpa.layer import GeneratedLoRA, QPAGenerator, QPALinear
from qllm.adapters.qpa.model import QPAModel

__all__ = ["GeneratedLoRA", "QPAConfig", "QPAGenerator", "QPALinear", "QPAModel"]
