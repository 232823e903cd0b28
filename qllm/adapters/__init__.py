"""Adapters: peft's LoRA and our registered methods `vqc`, `tq`, `quanTA` (see registry.py).

peft is imported before any adapter module: importing peft registers our methods (see
`qllm/__init__.py`), which imports those modules, so peft must not first be reached
from inside one of them.
"""

import peft  # noqa: F401
