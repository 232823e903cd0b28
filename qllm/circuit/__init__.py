"""`qllm circuit`: the circuit of a vqc / tq adapter drawn, exported as OpenQASM 3, and probed.

Everything is built from the one gate list the simulators run (`qllm.adapters.circuit.ansatz.circuit_gates`).
"""

import threading

CIRCUIT_METHODS = ("vqc", "tq")  # the methods whose adapters hold a circuit (torch-free: the board reads it)
# qiskit's compiled core is not safe to call from several threads at once (the board's request threads
# crashed it): every use of qiskit here holds this lock
QISKIT = threading.RLock()
