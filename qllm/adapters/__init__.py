"""Adapters: peft's LoRA and our registered methods `vqc`, `tq`, `quanTA`, `qpa` (see registry.py).

peft is imported before any adapter module: importing peft registers our methods (see
`qllm/__init__.py`), which imports those modules, so peft must not first be reached
from inside one of them.
"""

import warnings

import peft  # noqa: F401

# peft 0.21 reads transformers' deprecated `is_gradient_checkpointing` whenever it wraps a model: a notice on
# every run that no user can act on (the board counted it as the run's warning)
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
