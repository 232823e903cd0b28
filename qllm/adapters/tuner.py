"""The peft tuner (model class) shared by vqc, tq, quanTA and qpa: swap target Linears for `AdapterLinear`s."""

from __future__ import annotations

from peft.tuners.tuners_utils import BaseTuner
from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

from qllm.adapters.layer import AdapterLinear


class AdapterTuner(BaseTuner):
    prefix: str = ""
    tuner_layer_cls: type[AdapterLinear] = AdapterLinear
    # Same defaults as LoRA when no target_modules are given (q_proj, v_proj for Qwen2 / LLaMA).
    target_module_mapping = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

    def _create_and_replace(self, config, adapter_name, target, target_name, parent, current_key, **kwargs) -> None:
        if isinstance(target, self.tuner_layer_cls):
            target.update_layer(adapter_name, config)
            return
        new_module = self.tuner_layer_cls(target, adapter_name, config)
        if adapter_name not in self.active_adapters:
            new_module.requires_grad_(False)  # an added adapter is not trainable until activated
        self._replace_module(parent, target_name, new_module, target)
