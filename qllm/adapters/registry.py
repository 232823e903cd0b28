"""Registers the methods of `qllm.methods` that peft does not ship as peft methods, so peft's own API handles them.

peft's `register_peft_method` requires the name to be a member of its `PeftType` enum,
which has no public way to grow; `_add_peft_type` adds a member the way `enum` itself
stores them (the value doubles as the name, as for every built-in type).
"""

from __future__ import annotations

from peft.utils import PeftType, register_peft_method

from qllm.methods import METHODS, Method, import_object


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


def register_with_peft(method: Method) -> None:
    """Idempotent: a method already known to peft is left alone."""
    from peft.mapping import PEFT_TYPE_TO_CONFIG_MAPPING

    _add_peft_type(method.peft_type)
    if PeftType[method.peft_type] not in PEFT_TYPE_TO_CONFIG_MAPPING:
        register_peft_method(
            name=method.peft_type.lower(),
            config_cls=import_object(method.config_class),
            model_cls=import_object(method.model_class),
        )


def register_methods() -> None:
    """Every registered method with a tuner of ours; safe to call from every entry point."""
    for method in METHODS.values():
        if method.model_class is not None:
            register_with_peft(method)
