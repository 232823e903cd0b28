"""The peft tuner of `vqc` and `tq`: one batched build of every circuit's unitaries per training step."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from qllm.adapters.circuit.adapter import CircuitAdapter
from qllm.adapters.circuit.ansatz import layer_unitaries
from qllm.adapters.layer import AdapterLinear, is_sharded
from qllm.adapters.tuner import AdapterTuner


def active_circuit_adapters(model: nn.Module) -> list[CircuitAdapter]:
    """The circuit adapters the next forward pass runs on the fast path."""
    found = []
    for layer in model.modules():
        if isinstance(layer, AdapterLinear) and not layer.disable_adapters and not layer.merged:
            for name in layer.active_adapters:
                adapter = layer.adapters[name] if name in layer.adapters else None
                if isinstance(adapter, CircuitAdapter) and adapter.use_fast_path:
                    found.append(adapter)
    return found


def checkpoints_activations(model: nn.Module) -> bool:
    """Whether a layer of the model recomputes its forward pass in the backward (gradient checkpointing)."""
    return any(getattr(module, "gradient_checkpointing", False) is True for module in model.modules())


@contextmanager
def unitaries_built_together(model: nn.Module) -> Iterator[None]:
    """Build the unitaries of all trainable adapters of one width and library at once, for one forward pass.

    Each adapter's build is a few dozen small tensor operations, forward and backward; on a
    short batch their fixed cost, paid once per adapted module, rivalled the circuit's own
    work.  Stacked, the whole model's circuits cost one build.  The adapters receive their
    slices for this forward pass only, so gradients flow to each one's angles as before, and
    a no-grad evaluation inside training sees the angles of this moment.  Frozen adapters
    (chat, evaluation) are left to their own kept build.  Skipped under gradient
    checkpointing, whose recomputation of a layer must build exactly what its first pass
    built (a slice made outside the layer is gone by then), and under DeepSpeed ZeRO-3 and
    FSDP, whose parameters are whole only inside their own module's forward (`is_sharded`).
    """
    adapters = [adapter for adapter in active_circuit_adapters(model) if not adapter.is_frozen()]
    if any(is_sharded(adapter.ry_angles) for adapter in adapters) or (adapters and checkpoints_activations(model)):
        adapters = []
    groups: dict[tuple, list[CircuitAdapter]] = defaultdict(list)
    for adapter in adapters:
        groups[(adapter.simulator.name, adapter.ry_angles.shape[-1], adapter.ry_angles.device)].append(adapter)
    try:
        for group in groups.values():
            built = layer_unitaries(
                group[0].simulator,
                torch.cat([adapter.ry_angles for adapter in group]),
                torch.cat([adapter.crz_angles for adapter in group]),
            )
            for adapter, unitaries in zip(group, built.split([len(a.ry_angles) for a in group])):
                adapter.step_unitaries = unitaries
        yield
    finally:
        for adapter in adapters:
            adapter.step_unitaries = None


class CircuitTuner(AdapterTuner):
    def forward(self, *args, **kwargs):
        with unitaries_built_together(self.model):
            return super().forward(*args, **kwargs)
