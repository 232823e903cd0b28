"""The barren-plateau check: does the circuit's gradient vanish as the circuit widens?

For random starts of the ansatz (trained angles uniform in [0, 2π), as `init_circuit_weights`
draws them, and a random data angle per wire) the derivative of <Z_0> with respect to each
trained angle is computed by autograd through the adapter's own simulation.  Its variance
over the starts is the quantity of McClean et al. (2018): when it falls exponentially with
the number of qubits, a randomly started circuit has almost no gradient to learn from.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from qllm.adapters.circuit.ansatz import FAST_PATH_MAX_QUBITS, fast_expvals, init_circuit_weights, reference_expvals

FILES = ("gradient_variance.md", "gradient_variance.json", "gradient_variance.png", "gradient_variance.html")


@dataclass
class VariancePoint:
    n_qubits: int
    q_depth: int
    samples: int
    first_angle: float  # Var[∂<Z_0>/∂b[0][0]]: the first trained RY angle of the first layer
    all_angles: float  # the mean over every trained angle of Var[∂<Z_0>/∂θ]


def gradient_variance(simulator, n_qubits: int, q_depth: int, samples: int, generator: torch.Generator):
    """One point of the curve: ``samples`` random starts of an (n_qubits, q_depth) circuit."""
    expvals = fast_expvals if n_qubits <= FAST_PATH_MAX_QUBITS else reference_expvals  # as the adapter chooses
    gradients = []
    for _ in range(samples):
        ry, crz = (angles.requires_grad_() for angles in init_circuit_weights(n_qubits, q_depth, generator))
        data = torch.rand(1, n_qubits, generator=generator) * 2 * math.pi
        z0 = expvals(simulator, data, ry, crz)[0, 0]
        d_ry, d_crz = torch.autograd.grad(z0, (ry, crz), allow_unused=True, materialize_grads=True)  # 1 wire: no CRZ
        gradients.append(torch.cat((d_ry.flatten(), d_crz.flatten())))
    variance = torch.stack(gradients).double().var(dim=0)
    return VariancePoint(n_qubits, q_depth, samples, variance[0].item(), variance.mean().item())


def markdown(points: list[VariancePoint], method: str, seed: int) -> str:
    lines = [
        "# Barren-plateau check: gradient variance against circuit width",
        "",
        f"`qllm circuit --gradient_variance --finetuning_type {method} --n_qubits "
        f"{','.join(str(n) for n in sorted({p.n_qubits for p in points}))} --q_depth "
        f"{','.join(str(d) for d in sorted({p.q_depth for p in points}))} --samples {points[0].samples} --seed {seed}`",
        "",
        "Variance over random starts of ∂⟨Z_0⟩/∂θ: for the first trained angle b[0][0], and averaged over every",
        "trained angle. A value that falls by a constant factor per added qubit is a barren plateau.",
        "",
        "| qubits | depth | starts | Var ∂⟨Z₀⟩/∂b[0][0] | mean Var over all angles |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {p.n_qubits} | {p.q_depth} | {p.samples} | {p.first_angle:.3e} | {p.all_angles:.3e} |" for p in points
    ]
    return "\n".join(lines) + "\n"


def write_report(folder: Path, points: list[VariancePoint], method: str, seed: int) -> None:
    """gradient_variance.{md,json,png,html} in ``folder`` (checked beforehand to replace nothing of the user's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    depths = sorted({p.q_depth for p in points})
    (folder / FILES[0]).write_text(markdown(points, method, seed), encoding="utf-8")
    payload = {"method": method, "seed": seed, "points": [asdict(p) for p in points]}
    (folder / FILES[1]).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=100)
    html = go.Figure()
    for depth in depths:
        line = [p for p in points if p.q_depth == depth]
        qubits, values = [p.n_qubits for p in line], [p.all_angles for p in line]
        axes.semilogy(qubits, values, "o-", label=f"depth {depth}")
        html.add_trace(go.Scatter(x=qubits, y=values, mode="lines+markers", name=f"depth {depth}"))
    axes.set_xlabel("qubits")
    axes.set_ylabel("Var[∂⟨Z₀⟩/∂θ], mean over angles")
    axes.set_title(f"{method} ansatz: gradient variance over {points[0].samples} random starts")
    axes.grid(alpha=0.3, which="both")
    axes.legend()
    figure.savefig(folder / FILES[2], bbox_inches="tight")
    plt.close(figure)
    html.update_layout(
        title=f"{method} ansatz: gradient variance over {points[0].samples} random starts",
        xaxis_title="qubits",
        yaxis_title="Var[∂⟨Z₀⟩/∂θ], mean over angles",
        yaxis_type="log",
    )
    html.write_html(folder / FILES[3], include_plotlyjs=True)
