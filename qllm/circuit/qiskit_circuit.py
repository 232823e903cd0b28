"""The ansatz's gate list as a qiskit `QuantumCircuit`: for diagrams and for OpenQASM 3.

Wire i of the gate list is qiskit's qubit i.  Data-encoding angles are free parameters
(``h``, named by layer and wire); trained angles are numbers, or free parameters too
(``a``, ``b``, ``c``, ``d`` as in `ansatz`) when the ansatz is drawn before training.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qiskit.circuit import Parameter, QuantumCircuit

from qllm.adapters.circuit.ansatz import Gate, circuit_gates, init_circuit_weights
from qllm.circuit import QISKIT

if TYPE_CHECKING:
    from qllm.circuit.saved import SavedCircuit

DIAGRAM_NAMES = "{symbol}[{layer}][{wire}]"  # h[0][3]: layer 0, wire 3
QASM_NAMES = "{symbol}_{layer}_{wire}"  # a plain OpenQASM identifier: input float[64] h_0_3;


def parameter_name(gate: Gate, names: str) -> str:
    return names.format(symbol=gate.symbol, layer=gate.layer, wire=gate.wires[0])


def to_qiskit(
    gates: list[Gate],
    n_qubits: int,
    names: str = DIAGRAM_NAMES,
    symbolic: bool = False,
    decimals: int | None = None,
    measure: bool = True,
) -> QuantumCircuit:
    """``gates`` (`ansatz.circuit_gates`) as a circuit; ``symbolic``: trained angles as parameters too;
    ``decimals``: trained angles rounded (diagrams); ``measure``: every wire measured at the end."""
    with QISKIT:
        return _build(gates, n_qubits, names, symbolic, decimals, measure)


def _build(
    gates: list[Gate], n_qubits: int, names: str, symbolic: bool, decimals: int | None, measure: bool
) -> QuantumCircuit:
    circuit = QuantumCircuit(n_qubits)
    for gate in gates:
        if gate.params is None or symbolic:
            angle = Parameter(parameter_name(gate, names))
        else:
            angle = float(gate.params)
            angle = round(angle, decimals) if decimals is not None else angle
        if gate.name == "ry":
            circuit.ry(angle, gate.wires[0])
        elif gate.name == "crz":
            circuit.crz(angle, *gate.wires)
        else:  # the gate list names only these two: a new gate kind must be taught here
            raise ValueError(f"no qiskit gate for '{gate.name}'")
    if measure:
        circuit.measure_all()
    return circuit


def ansatz_circuit(n_qubits: int, q_depth: int) -> QuantumCircuit:
    """The ansatz as a run starts it: data angles h and trained angles a, b, c, d all as symbols."""
    ry, crz = init_circuit_weights(n_qubits, q_depth)
    return to_qiskit(circuit_gates(ry, crz), n_qubits, symbolic=True)


def trained_circuit(saved: SavedCircuit, decimals: int | None = 2) -> QuantumCircuit:
    """A saved module's circuit for a drawing: data angles as symbols, trained angles rounded."""
    return to_qiskit(circuit_gates(saved.ry, saved.crz), saved.n_qubits, decimals=decimals)
