"""The circuit on torchquantum's statevector simulator (`torchquantum-ng`)."""

from __future__ import annotations

import torch

from qllm.adapters.circuit.ansatz import Gate


class TorchquantumSimulator:
    name = "torchquantum"

    def __init__(self) -> None:
        import torchquantum as tq
        import torchquantum.functional as tqf

        self.tq = tq
        self.gate_functions = {"ry": tqf.ry, "crz": tqf.crz}
        self.matrix_functions = {"ry": tqf.mat_dict["ry"], "crz": tqf.mat_dict["crz"]}

    def _device(self, n_qubits: int, gates: list[Gate], states: torch.Tensor | None, batch: int, device):
        qdev = self.tq.QuantumDevice(n_wires=n_qubits, bsz=batch, device=device)
        if states is not None:
            qdev.set_states(states)
        for gate in gates:
            wires = gate.wires[0] if len(gate.wires) == 1 else list(gate.wires)
            params = gate.params.reshape(-1, 1) if gate.params.dim() else gate.params.reshape(1)
            self.gate_functions[gate.name](qdev, wires=wires, params=params)
        return qdev

    def __deepcopy__(self, memo: dict) -> TorchquantumSimulator:
        return self  # stateless, and it holds modules, which cannot be copied: a copied adapter shares it

    def run(self, n_qubits: int, gates: list[Gate], states: torch.Tensor | None, batch: int) -> torch.Tensor:
        device = states.device if states is not None else gates[0].params.device
        return self._device(n_qubits, gates, states, batch, device).get_states_1d()

    def expval_z(self, n_qubits: int, gates: list[Gate], batch: int) -> torch.Tensor:
        qdev = self._device(n_qubits, gates, None, batch, gates[0].params.device)
        observables = [self.tq.PauliZ() for _ in range(n_qubits)]
        return self.tq.measurement.expval(qdev, wires=list(range(n_qubits)), observables=observables)

    def gate_matrices(self, name: str, params: torch.Tensor) -> torch.Tensor:
        return self.matrix_functions[name](params.reshape(-1, 1))
