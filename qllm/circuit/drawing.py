"""Pictures of a circuit, by qiskit's matplotlib drawer: png / svg bytes, and svg for a web page.

The board draws from several request threads at once; qiskit's drawer sizes its figure through
pyplot, whose state is global, and qiskit itself is not thread-safe: one picture is drawn at a
time (`qllm.circuit.QISKIT`) and its figure closed after.
"""

from __future__ import annotations

import io

from qiskit.circuit import QuantumCircuit

from qllm.circuit import QISKIT


def picture(circuit: QuantumCircuit, fmt: str) -> bytes:
    """The circuit drawn on one row (no folding), as png or svg bytes; svg keeps its labels as text."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the drawing goes to bytes
    import matplotlib.pyplot as plt

    with QISKIT, matplotlib.rc_context({"svg.fonttype": "none"}):  # labels stay text: searchable, sharp
        figure = circuit.draw("mpl", fold=-1)
        try:
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, bbox_inches="tight")
        finally:
            plt.close(figure)
    return buffer.getvalue()


def inline_svg(circuit: QuantumCircuit) -> str:
    """The svg element alone (no XML prologue), to sit inside a page."""
    svg = picture(circuit, "svg").decode("utf-8")
    return svg[svg.index("<svg") :]
