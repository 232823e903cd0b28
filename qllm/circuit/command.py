"""`qllm circuit`: draw a vqc / tq circuit, or export a trained one as OpenQASM 3.

    qllm circuit --adapter_name_or_path DIR [--module NAME] [--format text|png|svg|qasm] [--output FILE]
    qllm circuit --adapter_name_or_path DIR --list
    qllm circuit --finetuning_type vqc --n_qubits 4 --q_depth 2        (the ansatz before training)

Every check runs before anything is written; a file that is there already is replaced only
with --overwrite, and a file is written whole or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

from qllm.errors import ArgumentError
from qllm.hparams.command_parser import CommandParser
from qllm.methods import MAX_QUBITS, find_method

FORMATS = ("text", "png", "svg", "qasm")
MAX_DEPTH = 16  # layers of a drawing; a deeper ansatz is valid for training but not worth a picture


def _parser() -> CommandParser:
    parser = CommandParser(prog="qllm circuit", description="Draw or export the circuit of a vqc / tq adapter.")
    parser.add_argument("--adapter_name_or_path", help="a saved vqc / tq adapter (a run's folder or checkpoint)")
    parser.add_argument("--module", help="the adapted module whose circuit to show (default: the first; --list)")
    parser.add_argument("--list", action="store_true", help="name the adapted modules and their circuits")
    parser.add_argument("--finetuning_type", help="without an adapter: vqc or tq, drawn as it starts training")
    parser.add_argument("--n_qubits", type=int, default=8, help="without an adapter: the circuit's qubits")
    parser.add_argument("--q_depth", type=int, default=1, help="without an adapter: the circuit's layers")
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default), png, svg or qasm")
    parser.add_argument("--output", help="write here (needed for png / svg); qasm also writes <output>.json")
    parser.add_argument("--overwrite", action="store_true", help="replace --output if it is there already")
    parser.add_argument("--decimals", type=int, default=2, help="trained angles in a drawing rounded to this")
    return parser


def _targets(options) -> list[Path]:
    """The files this call writes (none for text or qasm to the terminal), checked before any is."""
    if options.output is None:
        if options.format in ("png", "svg"):
            raise ArgumentError(
                "output", f"a {options.format} picture needs a file: add --output circuit.{options.format}"
            )
        return []
    output = Path(options.output)
    targets = [output, output.with_suffix(".json")] if options.format == "qasm" else [output]
    if not output.parent.is_dir():
        raise ArgumentError("output", f"no folder '{output.parent}'; create it first")
    there = [path for path in targets if path.exists()]
    if there and not options.overwrite:
        raise ArgumentError("output", f"'{there[0]}' is there already; choose another name, or add --overwrite")
    return targets


def _write(path: Path, data: bytes | str) -> None:
    """The whole file or none: written beside it, then renamed over it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(partial, path)


def _picture(circuit, fmt: str) -> bytes:
    """The circuit drawn by qiskit's matplotlib drawer, as png or svg bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg")  # no display: the drawing goes to a file
    import matplotlib.pyplot as plt

    figure = circuit.draw("mpl", fold=-1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _settings_circuit(options):
    """The ansatz of --finetuning_type / --n_qubits / --q_depth, trained angles as symbols a, b, c, d."""
    from qllm.adapters.circuit.ansatz import circuit_gates, init_circuit_weights
    from qllm.circuit.saved import CIRCUIT_METHODS, no_circuit

    method = find_method(options.finetuning_type)
    if method is None:
        raise ArgumentError("finetuning_type", f"unknown method '{options.finetuning_type}'; use vqc or tq")
    if method.name not in CIRCUIT_METHODS:
        raise no_circuit(method.name)
    if not 1 <= options.n_qubits <= MAX_QUBITS:
        raise ArgumentError(
            "n_qubits", f"must be 1-{MAX_QUBITS}, what an adapter can simulate (got {options.n_qubits})"
        )
    if not 1 <= options.q_depth <= MAX_DEPTH:
        raise ArgumentError("q_depth", f"must be 1-{MAX_DEPTH} to be drawn (got {options.q_depth})")
    ry, crz = init_circuit_weights(options.n_qubits, options.q_depth)
    title = f"{method.name} ansatz, {options.n_qubits} qubits, depth {options.q_depth}, before training"
    return circuit_gates(ry, crz), options.n_qubits, True, title


def run_circuit(argv: list[str]) -> str:
    """What to print: the text diagram, the QASM, the module list, or the files written."""
    from qllm.adapters.circuit.ansatz import circuit_gates
    from qllm.circuit.qasm import circuit_qasm, note_json
    from qllm.circuit.qiskit_circuit import to_qiskit
    from qllm.circuit.saved import pick_circuit, read_circuits

    options = _parser().parse_args(argv)
    if options.adapter_name_or_path is None and options.finetuning_type is None:
        raise ArgumentError("adapter_name_or_path", "name a saved vqc / tq adapter, or --finetuning_type vqc|tq")
    if options.adapter_name_or_path is not None:
        circuits = read_circuits(options.adapter_name_or_path)
        if options.list:
            return "\n".join(
                f"{c.module}  ({c.method}, {c.n_qubits} qubits, depth {c.q_depth})" for c in circuits.values()
            )
        saved = pick_circuit(circuits, options.module)
        gates, n, symbolic = circuit_gates(saved.ry, saved.crz), saved.n_qubits, False
        title = f"{saved.method} circuit of {saved.module}, {n} qubits, depth {saved.q_depth}, trained"
    else:
        if options.format == "qasm":
            raise ArgumentError("format", "qasm exports a trained circuit: add --adapter_name_or_path")
        saved = None
        gates, n, symbolic, title = _settings_circuit(options)
    targets = _targets(options)
    if options.format == "qasm":
        program = circuit_qasm(saved)
        if not targets:
            return program
        _write(targets[1], note_json(saved, str(options.adapter_name_or_path)))
        _write(targets[0], program)
        return f"wrote {targets[0]} and {targets[1]}"
    circuit = to_qiskit(gates, n, symbolic=symbolic, decimals=options.decimals)
    if options.format == "text":
        diagram = str(circuit.draw("text", fold=-1 if targets else 100))
        angles = "a, b, c, d: the angles training starts from" if symbolic else "trained angles rounded"
        note = f"h[l][i]: the data angle (A x)_i re-uploaded in layer l; {angles}"
        if not symbolic:
            note += f" to {options.decimals} decimals"
        shown = f"{title}\n{note}\n\n{diagram}\n"
        if not targets:
            return shown
        _write(targets[0], shown)
        return f"wrote {targets[0]}"
    _write(targets[0], _picture(circuit, options.format))
    return f"wrote {targets[0]}"
