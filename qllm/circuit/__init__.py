"""`qllm circuit`: the circuit of a vqc / tq adapter drawn, exported as OpenQASM 3, and probed.

Everything is built from the one gate list the simulators run (`qllm.adapters.circuit.ansatz.circuit_gates`).
"""
