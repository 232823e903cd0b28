"""A quantum device's reading of a circuit, as specs (torch-free: the board checks them too).

`--circuit_ablation` takes one of `ABLATIONS`; `--noise` a noise model,
e.g. `--noise depolarizing=0.001,readout=0.02`.

Each channel follows qiskit-aer's definition of the same name (the tests build the same
noise model in qiskit-aer and compare its density-matrix simulation with ours):

* ``depolarizing=p``: after each one-wire gate rho -> (1 - p) rho + p I/2 (x) Tr_w rho on its wire,
  after each two-wire gate the two-wire channel with the same p, (1 - p) rho + p I/4 (x) Tr_ij rho.
  p = 1 leaves the wires fully mixed.  (`depolarizing_error(p, 1)` / `(p, 2)`.)
* ``amplitude_damping=g``: after each gate, on each of its wires, the decay |1> -> |0> with
  probability g.  (`amplitude_damping_error(g)`, tensored with itself on two-wire gates.)
* ``readout=r``: each measured bit flips with probability r.  (`ReadoutError([[1-r, r], [r, 1-r]])`.)

A bare number is the depolarizing strength (`--noise 0.001`); 0, `none` or an empty spec is the ideal device.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from qllm.errors import ArgumentError

NOISE_EXAMPLE = "depolarizing=0.001,readout=0.02"
ABLATIONS = ("none", "mean", "zero")  # none; each <Z_i> by its mean over the evaluated tokens; by zero


@dataclass(frozen=True)
class NoiseModel:
    depolarizing: float = 0.0
    amplitude_damping: float = 0.0
    readout: float = 0.0

    @property
    def gate_noise(self) -> bool:
        """Noise after gates: the state is mixed and needs a density matrix."""
        return self.depolarizing > 0 or self.amplitude_damping > 0

    def __bool__(self) -> bool:
        return self.gate_noise or self.readout > 0

    def spec(self) -> str:
        """The spec `parse_noise` reads back: ``depolarizing=0.001,readout=0.02``, or ``0`` for none."""
        terms = [f"{f.name}={getattr(self, f.name):g}" for f in fields(self) if getattr(self, f.name) > 0]
        return ",".join(terms) or "0"


CHANNELS = tuple(f.name for f in fields(NoiseModel))


def parse_noise(spec: str | float | None, flag: str = "noise") -> NoiseModel:
    """The noise model of a spec; ArgumentError naming ``flag`` and the fix for anything else."""
    text = str(spec if spec is not None else "").strip()
    if text.lower() in ("", "0", "none", "ideal"):
        return NoiseModel()
    values: dict[str, float] = {}
    for term in text.split(","):
        name, equals, value = term.partition("=")
        name = name.strip().lower()
        if not equals:  # a bare number: the depolarizing strength
            name, value = "depolarizing", term
        if name not in CHANNELS:
            raise ArgumentError(flag, f"unknown channel '{name}'; use {', '.join(CHANNELS)} (e.g. {NOISE_EXAMPLE})")
        try:
            strength = float(value)
        except ValueError:
            message = f"cannot read '{term.strip()}'; write channel=probability, e.g. {NOISE_EXAMPLE}"
            raise ArgumentError(flag, message) from None
        if not 0 <= strength <= 1:
            raise ArgumentError(flag, f"{name} is a probability in [0, 1] (got {value.strip()})")
        if name == "readout" and strength > 0.5:
            raise ArgumentError(flag, f"readout above 0.5 flips most bits (got {value.strip()}); use 0 to 0.5")
        if name in values:
            raise ArgumentError(flag, f"{name} is given twice in '{text}'")
        values[name] = strength
    return NoiseModel(**values)
