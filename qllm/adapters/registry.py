"""Registers `vqc`, `tq` and `quanTA` as peft methods, so peft's own API handles them.

peft's `register_peft_method` requires the name to be a member of its `PeftType` enum,
which has no public way to grow; `_add_peft_type` adds a member the way `enum` itself
stores them (the value doubles as the name, as for every built-in type).
"""

from __future__ import annotations

from peft.utils import PeftType, register_peft_method

from qllm.adapters.quanta import QuanTAConfig, QuanTAModel
from qllm.adapters.tq import TQConfig, TQModel
from qllm.adapters.vqc import VQCConfig, VQCModel

METHODS = {"vqc": (VQCConfig, VQCModel), "tq": (TQConfig, TQModel), "quanta": (QuanTAConfig, QuanTAModel)}


def _add_peft_type(name: str) -> None:
    if name in PeftType.__members__:
        return
    member = str.__new__(PeftType, name)
    member._name_ = name
    member._value_ = name
    member.__objclass__ = PeftType
    setattr(PeftType, name, member)
    PeftType._member_map_[name] = member
    PeftType._value2member_map_[name] = member
    PeftType._member_names_.append(name)


def register_methods() -> None:
    """Idempotent: safe to call from every entry point."""
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    for name, (config_cls, model_cls) in METHODS.items():
        _add_peft_type(name.upper())
        if PeftType[name.upper()] not in PEFT_TYPE_TO_CONFIG_MAPPING:
            register_peft_method(name=name, config_cls=config_cls, model_cls=model_cls)
