from __future__ import annotations

from qllm.adapters.layer import is_sharded
from qllm.adapters.quanta.layer import QuanTALinear
from qllm.adapters.tuner import AdapterTuner


class QuanTAModel(AdapterTuner):
    """Wraps a model's target Linears with quanTA tensor adapters (mergeable)."""

    prefix = "quanta_"
    tuner_layer_cls = QuanTALinear

    def forward(self, *args, **kwargs):
        """Each forward first tells the layers whether their base weights are sharded (FSDP, ZeRO-3).  Only
        here, before the decoder layers run, can that be seen: inside its layer's forward FSDP has gathered
        a sharded weight into a plain tensor, and folding S into a kept copy of it would keep the whole
        weight in every process."""
        layers = [module for module in self.model.modules() if isinstance(module, QuanTALinear)]
        sharded = any(is_sharded(layer.base_layer.weight) for layer in layers)
        for layer in layers:
            layer.base_is_sharded = sharded
        return super().forward(*args, **kwargs)
