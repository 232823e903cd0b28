from __future__ import annotations

from torch import nn

from qllm.adapters.circuit.adapter import CircuitAdapter
from qllm.adapters.layer import AdapterLinear


class TQLinear(AdapterLinear):
    adapter_layer_names = ("tq_circuit",)

    def make_adapter(self, config) -> nn.Module:
        from qllm.adapters.circuit.torchquantum_simulator import TorchquantumSimulator

        return CircuitAdapter(self.in_features, self.out_features, config, TorchquantumSimulator())
