"""How `qllm eval` and `qllm chat` read a vqc / tq circuit: exactly, or as a quantum device would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from qllm.circuit.device import NOISE_EXAMPLE


@dataclass
class MeasurementArguments:
    """--shots / --noise / --circuit_ablation (`qllm.adapters.circuit.measurement`)."""

    shots: int = field(
        default=0,
        metadata={"help": "Bitstrings sampled per circuit evaluation to estimate each <Z_i>; 0 = exact expectations."},
    )
    noise: str = field(
        default="0",
        metadata={"help": f"Device noise, e.g. {NOISE_EXAMPLE} (also amplitude_damping=g); 0 = ideal."},
    )
    circuit_ablation: Literal["none", "mean", "zero"] = field(
        default="none",
        metadata={"help": "Replace each circuit's <Z> by its mean over the evaluated tokens, or by zero."},
    )
    seed: int = field(default=0, metadata={"help": "Seed of the shot sampling."})

    def __post_init__(self) -> None:
        from qllm.circuit.device import parse_noise
        from qllm.errors import ArgumentError

        if self.shots < 0:
            raise ArgumentError(
                "shots", f"must be 0 (exact) or a number of shots, e.g. --shots 1000 (got {self.shots})"
            )
        self.noise_model = parse_noise(self.noise)

    @property
    def active(self) -> bool:
        return self.shots > 0 or bool(self.noise_model) or self.circuit_ablation != "none"

    def measurement(self):
        from qllm.adapters.circuit.measurement import Measurement

        return Measurement(self.shots, self.noise_model, self.circuit_ablation, self.seed)

    def check_methods(self, methods: list[str]) -> None:
        """ArgumentError when shots, noise or an ablation is asked of adapters that hold no circuit."""
        from qllm.circuit import CIRCUIT_METHODS
        from qllm.errors import ArgumentError

        if not self.active or any(method in CIRCUIT_METHODS for method in methods):
            return
        flag = "shots" if self.shots else "noise" if self.noise_model else "circuit_ablation"
        held = f"a {methods[-1]} adapter" if methods else "no adapter"
        raise ArgumentError(
            flag,
            f"applies to the circuit of a {' or '.join(CIRCUIT_METHODS)} adapter, and this model has {held}; "
            f"leave --{flag} out",
        )
