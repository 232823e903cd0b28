"""The adapter module of `vqc` and `tq`: classical maps around a measured circuit (one simulator each)."""

from __future__ import annotations

import torch
from torch import nn

from qllm.adapters.circuit.ansatz import (
    FAST_PATH_MAX_QUBITS,
    fast_expvals,
    init_circuit_weights,
    layer_unitary,
    reference_expvals,
)
from qllm.adapters.frozen_cache import FrozenCache
from qllm.adapters.precision import full_precision


class CircuitAdapter(nn.Module):
    """One adapter of one layer: classical maps around a measured circuit.

    Trainable: A (d_in x n), B (n x d_out, zero at start, so the model starts unchanged),
    Q, C (n x n), and the circuit angles (4 n per circuit layer).  Everything runs in
    float32 and the circuit in complex64, whatever the base model's dtype.
    """

    def __init__(self, in_features: int, out_features: int, config, simulator) -> None:
        super().__init__()
        n = config.n_qubits
        self.A = nn.Linear(in_features, n, bias=False, dtype=torch.float32)
        self.Q = nn.Linear(n, n, bias=False, dtype=torch.float32)
        self.C = nn.Linear(n, n, bias=False, dtype=torch.float32)
        self.B = nn.Linear(n, out_features, bias=False, dtype=torch.float32)
        nn.init.zeros_(self.B.weight)
        ry, crz = init_circuit_weights(n, config.q_depth)
        self.ry_angles = nn.Parameter(ry)
        self.crz_angles = nn.Parameter(crz)
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.scaling = config.alpha / n
        self.simulator = simulator
        self.use_fast_path = n <= FAST_PATH_MAX_QUBITS
        self._unitaries = FrozenCache()  # not a buffer: never saved, rebuilt after a change

    def layer_unitaries(self) -> list[torch.Tensor]:
        """Each circuit layer's token-independent unitary; built once while parameters are frozen (generation)."""

        def build() -> list[torch.Tensor]:
            return [layer_unitary(self.simulator, ry, crz) for ry, crz in zip(self.ry_angles, self.crz_angles)]

        return self._unitaries.get((self.ry_angles, self.crz_angles), build)

    def expvals(self, angles: torch.Tensor, fast: bool | None = None) -> torch.Tensor:
        """<Z_i> of the circuit for each row of angles; ``fast=False`` forces the gate-by-gate path."""
        use_fast = self.use_fast_path if fast is None else fast
        if use_fast:
            return fast_expvals(self.simulator, angles, self.ry_angles, self.crz_angles, self.layer_unitaries())
        return reference_expvals(self.simulator, angles, self.ry_angles, self.crz_angles)

    @full_precision
    def forward(self, x: torch.Tensor, fast: bool | None = None) -> torch.Tensor:
        h = self.A(self.dropout(x.to(torch.float32)))
        q = self.expvals(h.reshape(-1, h.shape[-1]), fast).reshape(h.shape)
        return self.B((self.Q(q) + self.C(h)) * self.scaling)  # scaled on n columns, not d_out
