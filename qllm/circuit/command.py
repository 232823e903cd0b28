"""`qllm circuit`: draw a vqc / tq circuit, or export a trained one as OpenQASM 3.

    qllm circuit --adapter_name_or_path DIR [--module NAME] [--format text|png|svg|qasm] [--output FILE]
    qllm circuit --adapter_name_or_path DIR --list
    qllm circuit --finetuning_type vqc --n_qubits 4 --q_depth 2        (the ansatz before training)
    qllm circuit --gradient_variance --n_qubits 2,4,6,8,10 --q_depth 1,2 --output DIR   (barren plateaus)

Every check runs before anything is written; a file that is there already is replaced only
with --overwrite, and a file is written whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

from qllm.atomic import write_whole
from qllm.circuit import CIRCUIT_METHODS
from qllm.errors import ArgumentError
from qllm.hparams.command_parser import CommandParser
from qllm.methods import MAX_QUBITS, find_method

FORMATS = ("text", "png", "svg", "qasm")
MAX_DEPTH = 16  # layers of a drawing; a deeper ansatz is valid for training but not worth a picture
MAX_VARIANCE_QUBITS = 12  # the barren-plateau check simulates 2^n amplitudes per start, hundreds of starts


def _parser() -> CommandParser:
    parser = CommandParser(prog="qllm circuit", description="Draw or export the circuit of a vqc / tq adapter.")
    parser.add_argument("--adapter_name_or_path", help="a saved vqc / tq adapter (a run's folder or checkpoint)")
    parser.add_argument("--module", help="the adapted module whose circuit to show (default: the first; --list)")
    parser.add_argument("--list", action="store_true", help="name the adapted modules and their circuits")
    parser.add_argument("--finetuning_type", help="without an adapter: vqc or tq, drawn as it starts training")
    parser.add_argument("--n_qubits", default="8", help="without an adapter: the circuit's qubits (a list: 2,4,6)")
    parser.add_argument("--q_depth", default="1", help="without an adapter: the circuit's layers (a list: 1,2)")
    parser.add_argument(
        "--gradient_variance",
        action="store_true",
        help="the barren-plateau check: variance of the gradient over random starts, per --n_qubits and --q_depth",
    )
    parser.add_argument("--samples", type=int, default=200, help="random starts per point of --gradient_variance")
    parser.add_argument("--seed", type=int, default=0, help="the random starts' seed (--gradient_variance)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="text (default), png, svg or qasm")
    parser.add_argument(
        "--output",
        help="write here (needed for png / svg); qasm also writes <output>.json; a folder with --gradient_variance",
    )
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


def whole_numbers(text: str, field: str, most: int, single: bool = False) -> list[int]:
    """``"2,4,6"`` -> [2, 4, 6], each 1..most; ArgumentError naming the flag otherwise."""
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    if not parts or not all(part.isdigit() and 1 <= int(part) <= most for part in parts):
        raise ArgumentError(field, f"must be whole numbers from 1 to {most}, comma-separated (got '{text}')")
    if single and len(parts) > 1:
        raise ArgumentError(field, f"takes one value when drawing (got '{text}'); lists are for --gradient_variance")
    return [int(part) for part in parts]


def _circuit_method(name: str | None):
    """The vqc / tq method --finetuning_type names; one line for anything else."""
    from qllm.circuit.saved import no_circuit

    method = find_method(name or "")
    if method is None:
        raise ArgumentError("finetuning_type", f"unknown method '{name}'; use vqc or tq")
    if method.name not in CIRCUIT_METHODS:
        raise no_circuit(method.name)
    return method


def _gradient_variance(options) -> str:
    """The barren-plateau check of --n_qubits x --q_depth, written as gradient_variance.* into --output."""
    import torch

    from qllm.circuit.gradient_variance import FILES, gradient_variance, write_report

    method = _circuit_method(options.finetuning_type or "tq")
    qubits = whole_numbers(options.n_qubits, "n_qubits", MAX_VARIANCE_QUBITS)
    depths = whole_numbers(options.q_depth, "q_depth", MAX_DEPTH)
    if options.samples < 2:
        raise ArgumentError("samples", f"a variance needs at least 2 random starts (got {options.samples})")
    if options.output is None:
        raise ArgumentError("output", "name a folder for gradient_variance.{md,json,png,html}: add --output DIR")
    folder = Path(options.output)
    there = [folder / name for name in FILES if (folder / name).exists()]
    if there and not options.overwrite:
        raise ArgumentError("output", f"'{there[0]}' is there already; choose another folder, or add --overwrite")
    if folder.exists() and not folder.is_dir():
        raise ArgumentError("output", f"'{folder}' is a file; name a folder")
    simulator = _simulator(method.name)
    generator = torch.Generator().manual_seed(options.seed)
    points = [gradient_variance(simulator, n, depth, options.samples, generator) for depth in depths for n in qubits]
    folder.mkdir(parents=True, exist_ok=True)
    write_report(folder, points, method.name, options.seed)
    return (folder / FILES[0]).read_text(encoding="utf-8") + f"\nwrote {', '.join(str(folder / n) for n in FILES)}"


def _simulator(method: str):
    """The library the method simulates its circuit with."""
    if method == "vqc":
        from qllm.adapters.circuit.pyvqnet_simulator import PyvqnetSimulator

        return PyvqnetSimulator()
    from qllm.adapters.circuit.torchquantum_simulator import TorchquantumSimulator

    return TorchquantumSimulator()


def _settings_circuit(options):
    """The ansatz of --finetuning_type / --n_qubits / --q_depth, trained angles as symbols a, b, c, d."""
    from qllm.circuit.qiskit_circuit import ansatz_circuit

    method = _circuit_method(options.finetuning_type)
    (n_qubits,) = whole_numbers(options.n_qubits, "n_qubits", MAX_QUBITS, single=True)
    (q_depth,) = whole_numbers(options.q_depth, "q_depth", MAX_DEPTH, single=True)
    title = f"{method.name} ansatz, {n_qubits} qubits, depth {q_depth}, before training"
    note = "a, b, c, d: the angles training starts from"
    return ansatz_circuit(n_qubits, q_depth), title, note


def run_circuit(argv: list[str]) -> str:
    """What to print: the text diagram, the QASM, the module list, or the files written."""
    from qllm.circuit.drawing import picture
    from qllm.circuit.qasm import circuit_qasm, note_json
    from qllm.circuit.qiskit_circuit import trained_circuit
    from qllm.circuit.saved import pick_circuit, read_circuits

    options = _parser().parse_args(argv)
    if options.gradient_variance:
        return _gradient_variance(options)
    if options.adapter_name_or_path is None and options.finetuning_type is None:
        raise ArgumentError("adapter_name_or_path", "name a saved vqc / tq adapter, or --finetuning_type vqc|tq")
    saved = None
    if options.adapter_name_or_path is not None:
        circuits = read_circuits(options.adapter_name_or_path)
        if options.list:
            return "\n".join(
                f"{c.module}  ({c.method}, {c.n_qubits} qubits, depth {c.q_depth})" for c in circuits.values()
            )
        saved = pick_circuit(circuits, options.module)
        circuit = trained_circuit(saved, options.decimals)
        title = f"{saved.method} circuit of {saved.module}, {saved.n_qubits} qubits, depth {saved.q_depth}, trained"
        note = f"trained angles rounded to {options.decimals} decimals"
    elif options.format == "qasm":
        raise ArgumentError("format", "qasm exports a trained circuit: add --adapter_name_or_path")
    else:
        circuit, title, note = _settings_circuit(options)
    targets = _targets(options)
    if options.format == "qasm":
        program = circuit_qasm(saved)
        if not targets:
            return program
        write_whole(targets[1], note_json(saved, str(options.adapter_name_or_path)))
        write_whole(targets[0], program)
        return f"wrote {targets[0]} and {targets[1]}"
    if options.format != "text":
        write_whole(targets[0], picture(circuit, options.format))
        return f"wrote {targets[0]}"
    diagram = circuit.draw("text", fold=-1 if targets else 100)
    shown = f"{title}\nh[l][i]: the data angle (A x)_i re-uploaded in layer l; {note}\n\n{diagram}\n"
    if not targets:
        return shown
    write_whole(targets[0], shown)
    return f"wrote {targets[0]}"
