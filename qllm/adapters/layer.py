"""A peft tuner layer around `nn.Linear` whose adapters are modules computing an additive update.

y = W x + sum over active adapters of adapter(x).  Each method supplies the adapter
module (`CircuitAdapter` for vqc/tq, `TensorAdapter` for quanTA, `GeneratedLoRA` for qpa); this class gives them
what peft expects of a layer: several named adapters, enable/disable, merge/unmerge
when the update is linear, and dtype handling: adapters stay float32 whatever the base
dtype (peft would cast them, frozen buffers included, to it; `.to(dtype)` on the model
moves them only to the new device) and compute in float32 with autocast off; the update
is cast to the base output's dtype.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from peft.tuners.tuners_utils import BaseTunerLayer, check_adapters_to_merge
from torch import nn

from qllm.adapters.precision import full_precision


def is_sharded(parameter: torch.Tensor) -> bool:
    """A parameter split across processes: a DeepSpeed ZeRO-3 one (`ds_id`) or an FSDP2 `DTensor`."""
    from torch.distributed.tensor import DTensor

    return hasattr(parameter, "ds_id") or isinstance(parameter, DTensor)


class AdapterLinear(nn.Module, BaseTunerLayer):
    # Subclasses name the ModuleDict holding their adapters; the name starts with the method's prefix.
    adapter_layer_names: tuple[str, ...] = ()

    def __init__(self, base_layer: nn.Linear, adapter_name: str, config, **kwargs) -> None:
        super().__init__()
        if not isinstance(base_layer, nn.Linear):
            raise TypeError(f"only torch.nn.Linear layers can be adapted, got {type(base_layer).__name__}")
        self.base_layer = base_layer
        self.in_features, self.out_features = base_layer.in_features, base_layer.out_features
        setattr(self, self.adapter_layer_names[0], nn.ModuleDict())
        self._disable_adapters = False
        self.merged_adapters: list[str] = []
        self.kwargs = kwargs
        self._active_adapter = adapter_name
        self.update_layer(adapter_name, config)

    @property
    def adapters(self) -> nn.ModuleDict:
        return getattr(self, self.adapter_layer_names[0])

    def make_adapter(self, config) -> nn.Module:
        raise NotImplementedError

    def update_layer(self, adapter_name: str, config, **kwargs) -> None:
        self.adapters[adapter_name] = self.make_adapter(config)
        self._move_adapter_to_device_of_base_layer(adapter_name)
        self.set_adapter(self.active_adapters, inference_mode=config.inference_mode)

    def _move_adapter_to_device_of_base_layer(self, adapter_name: str, device: torch.device | None = None) -> None:
        """To the base layer's device only: peft would also cast the adapter to the base's (half) dtype."""
        self.adapters[adapter_name] = self.adapters[adapter_name].to(device or self.base_layer.weight.device)

    def _apply(self, fn, recurse: bool = True):
        """`model.to(...)`, `.half()`, `.cuda()`: the base layer follows; the adapters follow to its device only."""
        self.base_layer._apply(fn, recurse)
        self.adapters.to(self.base_layer.weight.device)
        return self

    @full_precision
    def adapter_update(self, adapter_name: str, x: torch.Tensor) -> torch.Tensor:
        """The additive update of one adapter, float32, computed with autocast off."""
        return self.adapters[adapter_name](x)

    def get_delta_weight(self, adapter_name: str) -> torch.Tensor:
        adapter = self.adapters[adapter_name]
        if not hasattr(adapter, "delta_weight"):
            raise ValueError(f"{type(adapter).__name__} is not a linear map of the input and cannot be merged")
        return full_precision(adapter.delta_weight)().to(self.base_layer.weight.dtype)

    def merge(self, safe_merge: bool = False, adapter_names: list[str] | None = None) -> None:
        if not self.base_layer.weight.dtype.is_floating_point:
            raise ValueError(
                f"cannot merge into a quantized layer ({type(self.base_layer).__name__}); "
                "load the base model without quantization to merge"
            )
        for name in check_adapters_to_merge(self, adapter_names):
            if name not in self.adapters:
                continue
            merged = self.base_layer.weight.data + self.get_delta_weight(name)
            if safe_merge and not torch.isfinite(merged).all():
                raise ValueError(f"NaNs detected in the merged weights of adapter {name}")
            self.base_layer.weight.data = merged
            self.merged_adapters.append(name)

    def unmerge(self) -> None:
        if not self.merged:
            warnings.warn("Already unmerged. Nothing to do.", stacklevel=2)
            return
        while self.merged_adapters:
            name = self.merged_adapters.pop()
            if name in self.adapters:
                self.base_layer.weight.data -= self.get_delta_weight(name)

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self.disable_adapters:
            if self.merged:
                self.unmerge()
            return self.base_layer(x, *args, **kwargs)
        result = self.base_layer(x, *args, **kwargs)
        if self.merged:
            return result
        for name in self.active_adapters:
            if name in self.adapters:
                result = result + self.adapter_update(name, x).to(result.dtype)
        return result

    def __repr__(self) -> str:
        return f"{self.adapter_layer_names[0].split('_')[0]}." + super().__repr__()
