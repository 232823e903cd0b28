"""How a `vqc` / `tq` circuit is read at evaluation and chat: exactly, or as a quantum device would.

The ideal adapter reads <Z_i> from the statevector, exact to float precision.  A
`Measurement` set on a model's circuit adapters (`apply_measurement`) replaces that by:

* **shots** (N > 0): every circuit evaluation samples N bitstrings of all wires at once (one
  shot measures every wire, as hardware does) from the outcome probabilities the simulator
  already has, and estimates each <Z_i> from them; one seeded generator per measurement.
* **noise** (`NoiseModel`): gate noise simulated exactly with density matrices (`density`),
  readout error as each bit flipping with probability r (the outcome distribution passed
  through the flip on each wire before sampling; without shots <Z_i> is scaled by 1 - 2r).
* **ablation**: ``zero`` replaces every <Z_i> by 0, ``mean`` by its mean over the tokens of an
  earlier ideal pass (`record_means`), leaving the classical maps (the C h bypass among them):
  how much does the quantum part carry?
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from qllm.adapters.circuit.ansatz import bind, circuit_gates, fast_states, z_signs_twice
from qllm.adapters.circuit.density import noisy_measure, prepare_readout
from qllm.adapters.frozen_cache import FrozenCache
from qllm.circuit.device import NoiseModel

logger = logging.getLogger(__name__)
Ablation = Literal["none", "mean", "zero"]  # qllm.circuit.device.ABLATIONS


def readout_flips(probabilities: torch.Tensor, n_qubits: int, r: float) -> torch.Tensor:
    """The outcome distribution after each wire's bit flips with probability ``r`` (T, 2^n)."""
    for wire in range(n_qubits):
        view = probabilities.reshape(probabilities.shape[0], 2**wire, 2, -1)
        zero, one = view[:, :, 0], view[:, :, 1]
        probabilities = torch.stack(((1 - r) * zero + r * one, r * zero + (1 - r) * one), dim=2).reshape(
            probabilities.shape
        )
    return probabilities


def shot_counts(probabilities: torch.Tensor, shots: int, generator: torch.Generator) -> torch.Tensor:
    """How many of ``shots`` bitstrings land on each outcome, per row: a draw of Multinomial(shots, p) (T, 2^n).

    Drawn wire by wire as a binary tree of binomials: of the shots in a branch, how many have
    the next wire at 0.  That is the multinomial exactly (its chain rule), and costs 2^n - 1
    draws per row whatever the number of shots, where drawing each shot costs ``shots``.
    """
    tokens, dim = probabilities.shape
    masses = [probabilities.clamp(min=0)]  # masses[k]: the probability of each branch k wires from the bottom
    while masses[-1].shape[1] > 1:
        masses.append(masses[-1].reshape(tokens, -1, 2).sum(dim=-1))
    counts = torch.full((tokens, 1), float(shots), device=probabilities.device)
    for level in range(len(masses) - 1, 0, -1):
        halves = masses[level - 1].reshape(tokens, -1, 2)
        first = (halves[..., 0] / masses[level]).nan_to_num_(0.0).clamp_(0, 1)  # 0/0 in an impossible branch
        drawn = torch.binomial(counts, first, generator=generator)
        counts = torch.stack((drawn, counts - drawn), dim=-1).reshape(tokens, -1)
    return counts


def sampled_expvals(probabilities: torch.Tensor, shots: int, generator: torch.Generator) -> torch.Tensor:
    """<Z_i> estimated from ``shots`` bitstrings drawn from each row's outcome distribution (T, 2^n) -> (T, n)."""
    dim = probabilities.shape[1]
    counts = shot_counts(probabilities, shots, generator)
    return counts @ z_signs_twice(dim.bit_length() - 1, probabilities.device)[:dim] / shots


@dataclass
class Measurement:
    """A reading of every circuit of a model: ``shots`` 0 = exact, ``noise`` empty = ideal, ``ablation``."""

    shots: int = 0
    noise: NoiseModel = field(default_factory=NoiseModel)
    ablation: Ablation = "none"
    seed: int = 0
    record_means: bool = False  # accumulate each circuit's mean <Z> (the ideal pass before a mean ablation)
    means: dict[str, torch.Tensor] = field(default_factory=dict)  # module name -> mean <Z_i> (n,)
    _sums: dict[str, list] = field(default_factory=dict, repr=False)
    _generator: torch.Generator | None = field(default=None, repr=False)
    _operators: dict[str, FrozenCache] = field(default_factory=dict, repr=False)

    @property
    def exact(self) -> bool:
        return self.shots == 0 and not self.noise and self.ablation == "none"

    def describe(self) -> dict:
        return {"shots": self.shots, "noise": self.noise.spec(), "ablation": self.ablation, "seed": self.seed}

    def in_words(self) -> str:
        """How the circuits are read, for a table line or a status: "1000 shots (seed 0), noise readout=0.02"."""
        if self.ablation != "none":
            return f"circuit output ablated ({self.ablation})"
        parts = [f"{self.shots} shots (seed {self.seed})" if self.shots else "exact expectations"]
        if self.noise:
            parts.append(f"noise {self.noise.spec()}")
        return ", ".join(parts)

    def generator(self, device: torch.device) -> torch.Generator:
        if self._generator is None or self._generator.device != torch.device(device):
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def recorded_means(self) -> dict[str, torch.Tensor]:
        """Mean <Z_i> of each circuit over the tokens recorded so far."""
        return {key: total / count for key, (total, count) in self._sums.items()}

    def expvals(self, adapter, key: str, angles: torch.Tensor) -> torch.Tensor:
        """<Z_i> (T, n) of ``adapter``'s circuit for each row of ``angles``, read this way."""
        if self.ablation == "zero":
            return torch.zeros_like(angles)
        if self.ablation == "mean":
            if key not in self.means:
                raise RuntimeError(f"no recorded mean <Z> for {key}: run an ideal pass with record_means first")
            return self.means[key].to(angles.device).expand_as(angles)
        values = self._read(adapter, key, angles)
        if self.record_means:
            total, count = self._sums.get(key, (0.0, 0))
            self._sums[key] = [values.sum(dim=0).detach() + total, count + values.shape[0]]
        return values

    def _read(self, adapter, key: str, angles: torch.Tensor) -> torch.Tensor:
        n, noise = angles.shape[1], self.noise
        if not noise.gate_noise and self.shots == 0:
            return adapter.ideal_expvals(angles) * (1 - 2 * noise.readout)
        if noise.gate_noise and self.shots == 0:  # the n measured Z operators, before readout
            return self._noisy(adapter, key, angles, "z") * (1 - 2 * noise.readout)
        if noise.gate_noise:
            probabilities = self._noisy(adapter, key, angles, "basis")
        else:
            probabilities = _ideal_probabilities(adapter, angles)
        if noise.readout > 0:
            probabilities = readout_flips(probabilities, n, noise.readout)
        return sampled_expvals(probabilities, self.shots, self.generator(angles.device))

    def _noisy(self, adapter, key: str, angles: torch.Tensor, what: str) -> torch.Tensor:
        """Tr(rho O) per token for the measured operators ``what``, kept per circuit while it is frozen."""
        cache = self._operators.setdefault(f"{key}/{what}", FrozenCache())

        def build():
            if what == "basis":  # 2^n operators: seconds per circuit, said so that a waiting run does not look stuck
                logger.info(
                    "noisy readout of %s: its %d outcome projectors pulled back once", key, 2 ** angles.shape[1]
                )
            return prepare_readout(adapter.simulator, adapter.ry_angles, adapter.crz_angles, self.noise, what)

        readout = cache.get((adapter.ry_angles, adapter.crz_angles), build)
        return noisy_measure(adapter.simulator, angles, adapter.ry_angles, adapter.crz_angles, self.noise, readout)


def _ideal_probabilities(adapter, angles: torch.Tensor) -> torch.Tensor:
    """|amplitude_b|^2 (T, 2^n) of the ideal final state, from the path the adapter computes <Z> on."""
    n, dim = angles.shape[1], 2 ** angles.shape[1]
    if adapter.use_fast_path:
        both = fast_states(adapter.simulator, angles, adapter.ry_angles, adapter.crz_angles, adapter.layer_unitaries())
        return both[:, :dim].square() + both[:, dim:].square()
    gates = bind(circuit_gates(adapter.ry_angles, adapter.crz_angles), angles)
    return adapter.simulator.run(n, gates, None, angles.shape[0]).abs().square()


def circuit_adapters(model: nn.Module) -> dict[str, nn.Module]:
    """Every circuit adapter of the model by module name (stable for one adapter folder)."""
    from qllm.adapters.circuit.adapter import CircuitAdapter

    return {name: module for name, module in model.named_modules() if isinstance(module, CircuitAdapter)}


def apply_measurement(model: nn.Module, measurement: Measurement | None) -> int:
    """Read every circuit of ``model`` with ``measurement`` (None: exactly again); the number of circuits."""
    adapters = circuit_adapters(model)
    for name, adapter in adapters.items():
        active = measurement is not None and (not measurement.exact or measurement.record_means)
        adapter.measurement = (measurement, name) if active else None
    return len(adapters)
