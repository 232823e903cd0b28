from __future__ import annotations

from torch import nn

from qllm.adapters.circuit.adapter import CircuitAdapter
from qllm.adapters.layer import AdapterLinear


class VQCLinear(AdapterLinear):
    adapter_layer_names = ("vqc_circuit",)

    def make_adapter(self, config) -> nn.Module:
        from qllm.adapters.circuit.pyvqnet_simulator import PyvqnetSimulator

        return CircuitAdapter(self.in_features, self.out_features, config, PyvqnetSimulator())
