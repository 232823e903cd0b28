"""`lora`: peft's own LoRA, the classical baseline; only its limits are ours (see qllm.methods)."""

from dataclasses import dataclass

from peft import LoraConfig

from qllm.methods import check_config


@dataclass
class CheckedLoraConfig(LoraConfig):
    """peft's LoraConfig, with the limits the method record states checked at construction."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_config(self)


__all__ = ["CheckedLoraConfig"]
