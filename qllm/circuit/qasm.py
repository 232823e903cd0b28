"""A trained circuit as OpenQASM 3, with a JSON note saying how it sits in the adapter.

The QASM holds the quantum part only: the data-encoding angles are inputs
(`input float[64] h_<l>_<i>;`, the same h_i re-uploaded in every layer l), the trained angles
numbers, and every wire is measured; <Z_i> of wire i is what the adapter reads out.  The JSON
names the module and the classical maps around the circuit, with their shapes and their keys
in adapter_model.safetensors, so that the adapter can be run elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

from qiskit import qasm3

from qllm.adapters.circuit.ansatz import circuit_gates
from qllm.circuit import QISKIT
from qllm.circuit.qiskit_circuit import QASM_NAMES, to_qiskit
from qllm.circuit.saved import SavedCircuit
from qllm.constants import ADAPTER_WEIGHTS


def circuit_qasm(circuit: SavedCircuit) -> str:
    """The trained circuit of one module as an OpenQASM 3 program, its first comment saying whose it is."""
    gates = circuit_gates(circuit.ry, circuit.crz)
    with QISKIT:
        program = qasm3.dumps(to_qiskit(gates, circuit.n_qubits, names=QASM_NAMES))
    version, _, rest = program.partition("\n")
    said = (
        f"// {circuit.method} adapter circuit of {circuit.module}: {circuit.n_qubits} qubits, depth "
        f"{circuit.q_depth}; inputs h_<l>_<i> = (A x)_i, readout <Z_i> per qubit (see the JSON note)"
    )
    return f"{version}\n{said}\n{rest}"


def circuit_note(circuit: SavedCircuit, adapter: str) -> dict[str, Any]:
    """What the QASM leaves out: where its inputs come from and where its outputs go, in the adapter."""
    n = circuit.n_qubits
    return {
        "adapter": adapter,
        "module": circuit.module,
        "method": circuit.method,
        "n_qubits": n,
        "q_depth": circuit.q_depth,
        "weights_file": ADAPTER_WEIGHTS,
        "inputs": (
            f"h = A x (x: the module's input, float32); h_<l>_<i> = h[i] for every layer l = 0..{circuit.q_depth - 1}"
        ),
        "outputs": f"q[i] = <Z_i>, the expectation of Pauli Z on wire i (qubit i), i = 0..{n - 1}",
        "adapter_output": "B((Q q + C h) * scaling), added to the module's own output",
        "scaling": circuit.scaling,
        "classical_maps": {
            name: {"key": circuit.maps.get(name), "shape": circuit.shapes.get(name), "computes": computes}
            for name, computes in (
                ("A", "h = A x: the input to the circuit's angles"),
                ("Q", "Q q: the circuit's readout mixed"),
                ("C", "C h: the bypass around the circuit"),
                ("B", "B(...): back to the module's output size"),
            )
        },
    }


def note_json(circuit: SavedCircuit, adapter: str) -> str:
    return json.dumps(circuit_note(circuit, adapter), indent=1) + "\n"
