"""The adapter module of `vqc` and `tq`: classical maps around a measured circuit (one simulator each)."""

from __future__ import annotations

import torch
from torch import nn

from qllm.adapters.circuit.ansatz import (
    FAST_PATH_MAX_QUBITS,
    fast_expvals,
    init_circuit_weights,
    layer_unitaries,
    reference_expvals,
)
from qllm.adapters.circuit.fused import OneLayerCircuitAdapter
from qllm.adapters.frozen_cache import FrozenCache, is_frozen
from qllm.adapters.layer import is_sharded
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
        self._unitaries = FrozenCache()  # not a buffer: never saved; used only while the adapter is frozen
        self.step_unitaries: torch.Tensor | None = None  # set for one forward pass by `unitaries_built_together`
        self._readout = FrozenCache()
        self.measurement = None  # (Measurement, module name) while read as a device would (`apply_measurement`)

    def is_frozen(self) -> bool:
        """Loaded for inference (no parameter trains): the builds are kept and the readout folded."""
        return is_frozen((self.A.weight, self.Q.weight, self.C.weight, self.B.weight, self.ry_angles, self.crz_angles))

    def build_unitaries(self) -> torch.Tensor:
        return layer_unitaries(self.simulator, self.ry_angles, self.crz_angles)

    def layer_unitaries(self) -> torch.Tensor:
        """The circuit layers' token-independent unitaries (q_depth, 2^n, 2^(n+1)).

        In a training process they come from one build shared by all adapters of the forward
        pass when the tuner made one, else from a build of the current angles; a frozen
        adapter (chat, evaluation) builds them once and keeps them.
        """
        if self.step_unitaries is not None:
            return self.step_unitaries
        return self._unitaries.get((self.ry_angles, self.crz_angles), self.build_unitaries)

    def expvals(self, angles: torch.Tensor, fast: bool | None = None) -> torch.Tensor:
        """<Z_i> of the circuit for each row of angles: exact, or with the shots, noise or ablation of a
        `measurement.Measurement` when one is set."""
        if self.measurement is not None:
            measurement, name = self.measurement
            return measurement.expvals(self, name, angles)
        return self.ideal_expvals(angles, fast)

    def ideal_expvals(self, angles: torch.Tensor, fast: bool | None = None) -> torch.Tensor:
        """Exact <Z_i> from the statevector; ``fast=False`` forces the gate-by-gate path."""
        use_fast = self.use_fast_path if fast is None else fast
        if use_fast:
            return fast_expvals(self.simulator, angles, self.ry_angles, self.crz_angles, self.layer_unitaries())
        return reference_expvals(self.simulator, angles, self.ry_angles, self.crz_angles)

    def readout_matrix(self) -> torch.Tensor:
        """(2n, d_out): the classical maps after the circuit as one matrix, [q | h] -> B((Q q + C h) * scaling)."""
        return torch.cat((self.Q.weight.T, self.C.weight.T)) @ self.B.weight.T * self.scaling

    def fuses(self) -> bool:
        """Whether a training forward runs as one `OneLayerCircuitAdapter`: the ideal fast path of a one-layer
        circuit whose maps are whole tensors (not DeepSpeed ZeRO-3's, gathered only inside each map's forward)."""
        return (
            self.use_fast_path
            and self.measurement is None
            and self.ry_angles.shape[0] == 1
            and not is_sharded(self.A.weight)
            and not self.is_frozen()
        )

    @full_precision
    def forward(self, x: torch.Tensor, fast: bool | None = None) -> torch.Tensor:
        if fast is not False and self.fuses():
            rows = self.dropout(x.to(torch.float32)).reshape(-1, x.shape[-1])
            weights = (self.A.weight, self.Q.weight, self.C.weight, self.B.weight)
            update = OneLayerCircuitAdapter.apply(rows, *weights, self.layer_unitaries(), self.scaling)
            return update.reshape(*x.shape[:-1], update.shape[-1])
        return self.unfused_forward(x, fast)

    def unfused_forward(self, x: torch.Tensor, fast: bool | None = None) -> torch.Tensor:
        """The adapter as composed modules, autograd recording every step: any depth, width or measurement,
        and the fused forward's test oracle."""
        h = self.A(self.dropout(x.to(torch.float32)))
        q = self.expvals(h.reshape(-1, h.shape[-1]), fast).reshape(h.shape)
        if not self.is_frozen():
            return self.B((self.Q(q) + self.C(h)) * self.scaling)  # scaled on n columns, not d_out
        # frozen (chat, evaluation): the same linear maps folded once into one matrix; a token costs one product
        weights = (self.Q.weight, self.C.weight, self.B.weight)
        return torch.cat((q, h), dim=-1) @ self._readout.get(weights, self.readout_matrix)
