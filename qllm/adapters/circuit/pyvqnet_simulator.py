"""The circuit on pyvqnet's statevector simulator (torch backend, `pyvqnet.qnn.vqc.sv.torch`)."""

from __future__ import annotations

import functools
import warnings

import torch

from qllm.adapters.circuit.ansatz import Gate


@functools.cache
def _import_pyvqnet():
    """Once per process: selecting the torch backend and importing the simulator is not free, and every layer asks."""
    with warnings.catch_warnings():  # its CUDA extension warns about the torch build: harmless here
        warnings.simplefilter("ignore")
        from pyvqnet.backends import set_backend

        set_backend("torch")
        import pyvqnet.qnn.vqc.sv.torch as sv
        from pyvqnet.qnn.vqc.common import qmatrix
    return sv, qmatrix


class PyvqnetSimulator:
    name = "pyvqnet"

    def __init__(self) -> None:
        self.sv, qmatrix = _import_pyvqnet()
        self.gate_functions = {"ry": self.sv.ry, "crz": self.sv.crz}
        self.matrix_functions = {"ry": qmatrix.ry_matrix, "crz": qmatrix.crz_matrix}

    def _machine(self, n_qubits: int, gates: list[Gate], states: torch.Tensor | None, batch: int):
        machine = self.sv.QMachine(n_qubits)
        machine.reset_states(batch)
        if states is not None:
            machine.set_states(states.reshape([batch] + [2] * n_qubits))
        for gate in gates:
            wires = gate.wires[0] if len(gate.wires) == 1 else list(gate.wires)
            self.gate_functions[gate.name](machine, wires=wires, params=gate.params)
        return machine

    def __deepcopy__(self, memo: dict) -> PyvqnetSimulator:
        return self  # stateless, and it holds modules, which cannot be copied: a copied adapter shares it

    # pyvqnet's QMachine is a Cython type torch.compile cannot trace: the gate-by-gate runs stay eager
    # (a graph break under --torch_compile); the fast path's matrices are traced as usual.
    @torch.compiler.disable
    def run(self, n_qubits: int, gates: list[Gate], states: torch.Tensor | None, batch: int) -> torch.Tensor:
        return self._machine(n_qubits, gates, states, batch).states.reshape(batch, 2**n_qubits)

    @torch.compiler.disable
    def expval_z(self, n_qubits: int, gates: list[Gate], batch: int) -> torch.Tensor:
        machine = self._machine(n_qubits, gates, None, batch)
        measure = self.sv.MeasureAll(obs=[{f"Z{i}": 1.0} for i in range(n_qubits)])
        return measure(q_machine=machine)

    def gate_matrices(self, name: str, params: torch.Tensor) -> torch.Tensor:
        return self.matrix_functions[name](params)
