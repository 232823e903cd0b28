"""The ansatz's gate list as a qiskit `QuantumCircuit`: for diagrams and for OpenQASM 3.

Wire i of the gate list is qiskit's qubit i.  Data-encoding angles are free parameters
(``h``, named by layer and wire); trained angles are numbers, or free parameters too
(``a``, ``b``, ``c``, ``d`` as in `ansatz`) when the ansatz is drawn before training.
"""

from __future__ import annotations

from qiskit.circuit import Parameter, QuantumCircuit

from qllm.adapters.circuit.ansatz import Gate

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
