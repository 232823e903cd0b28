"""The circuit on a noisy device, simulated exactly with density matrices (complex64, batched over tokens).

The gate list is the circuit's own (`ansatz.circuit_gates`, bound by `ansatz.bind`) and each
gate's matrix comes from the adapter's library (`Simulator.gate_matrices`), as on the ideal
path; after every gate the channels of a `NoiseModel` act on its wires.

Two pictures, chosen for cost (a token's density matrix has 4^n entries):

* The state before the last trained block is evolved per token (Schrödinger): the first
  data encoding acts on |0...0>, so it is a product of one-wire mixed states written down
  directly; later gates act on the batch of matrices, a few tokens at a time (`CHUNK_BYTES`).
* The last trained block does not depend on the token, so it is applied once, backwards,
  to the measured operators (Heisenberg: O -> E^dagger(O)); a token then costs one product
  Tr(rho O).  A one-layer circuit is thus one product per token, whatever the noise.

Gate kinds: any one-wire 2x2 matrix; two-wire gates must be diagonal (the ansatz's CRZ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from qllm.adapters.circuit.ansatz import Gate, Simulator, bind, circuit_gates, kron_all, ring_diagonal, z_signs_twice
from qllm.adapters.precision import full_precision
from qllm.circuit.device import NoiseModel

CHUNK_BYTES = 64 * 2**20  # one chunk's density matrices; the arithmetic around them takes a few times this


def _mix_2x2(tensor: torch.Tensor, dim: int, u: torch.Tensor) -> torch.Tensor:
    """new_s = sum_s' u[s, s'] part_s' along ``dim`` (a wire's bit); ``u``: (K or 1, 2, 2), K the batch."""
    zero, one = tensor.select(dim, 0), tensor.select(dim, 1)
    shape = (u.shape[0],) + (1,) * (zero.dim() - 1)

    def c(i: int, j: int) -> torch.Tensor:
        return u[:, i, j].reshape(shape)

    return torch.stack((c(0, 0) * zero + c(0, 1) * one, c(1, 0) * zero + c(1, 1) * one), dim=dim)


def apply_one_wire(rho: torch.Tensor, n_qubits: int, wire: int, u: torch.Tensor) -> torch.Tensor:
    """U rho U^dagger for a one-wire matrix ``u`` (K or 1, 2, 2) on ``wire`` (wire 0 = most significant bit)."""
    batch, dim = rho.shape[0], rho.shape[1]
    above, below = 2**wire, 2 ** (n_qubits - wire - 1)
    rho = _mix_2x2(rho.reshape(batch, above, 2, below * dim), 2, u)  # rows
    rho = _mix_2x2(rho.reshape(batch, dim, above, 2, below), 3, u.conj())  # columns: sum_s' rho_s' conj(u[s, s'])
    return rho.reshape(batch, dim, dim)


def apply_diagonal(rho: torch.Tensor, phases: torch.Tensor) -> torch.Tensor:
    """D rho D^dagger for a diagonal D given as ``phases`` (K or 1, dim)."""
    return rho * phases[:, :, None] * phases.conj()[:, None, :]


def _wire_blocks(rho: torch.Tensor, n_qubits: int, wire: int) -> torch.Tensor:
    """rho viewed as (K, above, row bit, below, above, column bit, below) for one wire."""
    above, below = 2**wire, 2 ** (n_qubits - wire - 1)
    return rho.reshape(rho.shape[0], above, 2, below, above, 2, below)


def depolarize_one(rho: torch.Tensor, n_qubits: int, wire: int, p: float) -> torch.Tensor:
    """(1 - p) rho + p I/2 (x) Tr_wire rho.  Its own adjoint (a Pauli channel)."""
    blocks = _wire_blocks(rho, n_qubits, wire)
    traced = blocks[:, :, 0, :, :, 0] + blocks[:, :, 1, :, :, 1]
    out = blocks * (1 - p)
    out[:, :, 0, :, :, 0] += p / 2 * traced
    out[:, :, 1, :, :, 1] += p / 2 * traced
    return out.reshape(rho.shape)


def depolarize_two(rho: torch.Tensor, n_qubits: int, wires: tuple[int, int], p: float) -> torch.Tensor:
    """(1 - p) rho + p I/4 (x) Tr_(i,j) rho.  Its own adjoint."""
    i, j = sorted(wires)
    sizes = (2**i, 2, 2 ** (j - i - 1), 2, 2 ** (n_qubits - j - 1))
    blocks = rho.reshape(rho.shape[0], *sizes, *sizes)
    every = slice(None)
    index = [(every, *(every, s, every, t, every) * 2) for s in (0, 1) for t in (0, 1)]  # row bits = column bits
    traced = sum(blocks[ix] for ix in index)
    out = blocks * (1 - p)
    for ix in index:
        out[ix] += p / 4 * traced
    return out.reshape(rho.shape)


def damp(rho: torch.Tensor, n_qubits: int, wire: int, g: float, adjoint: bool = False) -> torch.Tensor:
    """Amplitude damping (Kraus [[1, 0], [0, sqrt(1-g)]] and [[0, sqrt(g)], [0, 0]]) on one wire, or its adjoint."""
    blocks = _wire_blocks(rho, n_qubits, wire)
    out = blocks.clone()
    keep = math.sqrt(1 - g)
    out[:, :, 0, :, :, 1] *= keep
    out[:, :, 1, :, :, 0] *= keep
    out[:, :, 1, :, :, 1] *= 1 - g
    if adjoint:  # O00 feeds O11: K1^dagger O K1 = g O00 |1><1|
        out[:, :, 1, :, :, 1] += g * blocks[:, :, 0, :, :, 0]
    else:  # the decayed |1> population lands in |0>
        out[:, :, 0, :, :, 0] += g * blocks[:, :, 1, :, :, 1]
    return out.reshape(rho.shape)


def apply_noise(
    rho: torch.Tensor, n_qubits: int, wires: tuple[int, ...], noise: NoiseModel, adjoint: bool
) -> torch.Tensor:
    """The channels that follow a gate on ``wires``: depolarizing, then amplitude damping on each wire.
    For the adjoint (Heisenberg) the order is reversed."""
    steps = []
    if noise.depolarizing > 0:
        if len(wires) == 1:
            steps.append(lambda r: depolarize_one(r, n_qubits, wires[0], noise.depolarizing))
        else:
            steps.append(lambda r: depolarize_two(r, n_qubits, wires, noise.depolarizing))
    if noise.amplitude_damping > 0:
        for wire in wires:
            steps.append(lambda r, w=wire: damp(r, n_qubits, w, noise.amplitude_damping, adjoint))
    for step in reversed(steps) if adjoint else steps:
        rho = step(rho)
    return rho


def _gate_matrix(simulator: Simulator, gate: Gate) -> torch.Tensor:
    """(K, d, d): the library's matrix of the gate, one per token for a data-encoding gate, else one."""
    matrix = simulator.gate_matrices(gate.name, gate.params.reshape(-1))
    return matrix.reshape(-1, *matrix.shape[-2:])  # a library may drop the batch dimension of one angle


def _apply_gate(rho: torch.Tensor, n_qubits: int, simulator: Simulator, gate: Gate, adjoint: bool) -> torch.Tensor:
    matrix = _gate_matrix(simulator, gate)
    if adjoint:
        matrix = matrix.conj().transpose(1, 2)
    if len(gate.wires) == 1:
        return apply_one_wire(rho, n_qubits, gate.wires[0], matrix.to(rho.dtype))
    diagonal = matrix.diagonal(dim1=1, dim2=2)
    if not torch.equal(torch.diag_embed(diagonal), matrix):
        raise ValueError(f"two-wire gate '{gate.name}' is not diagonal; density.py simulates diagonal ones only")
    phases = ring_diagonal(diagonal.reshape(-1, 1, 4), [gate.wires], n_qubits)
    return apply_diagonal(rho, phases.to(rho.dtype))


def evolve(
    rho: torch.Tensor, n_qubits: int, simulator: Simulator, gates: list[Gate], noise: NoiseModel
) -> torch.Tensor:
    """Each gate, then its noise, on a batch of density matrices (Schrödinger)."""
    for gate in gates:
        rho = apply_noise(_apply_gate(rho, n_qubits, simulator, gate, False), n_qubits, gate.wires, noise, False)
    return rho


def evolve_back(
    operators: torch.Tensor, n_qubits: int, simulator: Simulator, gates: list[Gate], noise: NoiseModel
) -> torch.Tensor:
    """E^dagger(O) for the noisy gate sequence E, on a batch of operators (Heisenberg):
    Tr(E(rho) O) = Tr(rho E^dagger(O))."""
    for gate in reversed(gates):
        operators = apply_noise(operators, n_qubits, gate.wires, noise, True)
        operators = _apply_gate(operators, n_qubits, simulator, gate, True)
    return operators


def first_encoding(simulator: Simulator, angles: torch.Tensor, noise: NoiseModel, joined: bool = True) -> torch.Tensor:
    """The state after the first data encoding and its noise, a product of one-wire mixed states:
    (T, 2^n, 2^n), or the factors (T, n, 2, 2) when not ``joined``."""
    tokens, n = angles.shape
    matrices = simulator.gate_matrices("ry", angles.T.reshape(-1)).to(torch.complex64)  # (n*T, 2, 2), wire-major
    column = matrices[:, :, 0]  # RY(h)|0>
    wires = column[:, :, None] * column.conj()[:, None, :]
    wires = apply_noise(wires, 1, (0,), noise, False).reshape(n, tokens, 2, 2).transpose(0, 1)
    return kron_all(wires) if joined else wires


def measured_operators(n_qubits: int, what: str, device: torch.device) -> torch.Tensor:
    """(m, 2^n, 2^n): ``"z"``: Z on each wire; ``"basis"``: the projector on each basis state."""
    dim = 2**n_qubits
    if what == "z":
        signs = z_signs_twice(n_qubits, device)[:dim].T  # (n, dim)
        return torch.diag_embed(signs).to(torch.complex64)
    return torch.diag_embed(torch.eye(dim, device=device)).to(torch.complex64)


def last_block(gates: list[Gate]) -> tuple[list[Gate], list[Gate]]:
    """The gate list split before the last layer's trained gates (which do not depend on the token)."""
    last = max(gate.layer for gate in gates)
    start = next(k for k, gate in enumerate(gates) if gate.layer == last and gate.params is not None)
    return gates[:start], gates[start:]


# Tr(sigma M) of a wire's 2x2 block M laid flat as (M00, M01, M10, M11), for sigma = I, X, Z
PAULI_TRACES = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, -1.0]])


def pauli_weights(operators: torch.Tensor, n_qubits: int) -> torch.Tensor:
    """(3^n, m): Tr(P O_k) / 2^n for every string P of I, X, Z (wire 0 first) and each operator O_k.

    The first encoding's one-wire states are real (RY's matrices are), so each is
    (I + x X + z Z) / 2 with no Y part, and Tr(rho O) = sum_P prod_w v_w[P_w] Tr(P O) / 2^n
    with v_w = (1, x_w, z_w): 3^n terms per token instead of the 4^n of rho itself.
    """
    m, dim = operators.shape[0], 2**n_qubits
    bits = operators.reshape(m, *[2] * (2 * n_qubits))  # (m, row bits..., column bits...)
    pairs = [axis for wire in range(n_qubits) for axis in (1 + wire, 1 + n_qubits + wire)]
    flat = bits.permute(0, *pairs).reshape(m, *[4] * n_qubits)  # each wire's (row, column) pair laid flat
    traces = PAULI_TRACES.to(operators.device, operators.dtype)
    for wire in range(n_qubits):
        flat = torch.tensordot(flat, traces, dims=([1 + wire], [1])).movedim(-1, 1 + wire)
    return (flat.real.reshape(m, -1) / dim).T.contiguous()


def bloch_features(wires: torch.Tensor) -> torch.Tensor:
    """(T, n, 2, 2) one-wire states -> (T, 3^n): the products prod_w (1, x_w, z_w)[P_w] of `pauli_weights`."""
    ones = torch.ones_like(wires[..., 0, 0].real)
    x, z = 2 * wires[..., 0, 1].real, (wires[..., 0, 0] - wires[..., 1, 1]).real
    vectors = torch.stack((ones, x, z), dim=-1)  # (T, n, 3)
    return kron_all(vectors[:, :, None, :])[:, 0]


@dataclass(frozen=True)
class Readout:
    """The measured operators pulled back through the last trained block, in the form a token's state meets them:
    `pauli_weights` for a one-layer circuit (whose state there is a product), else Tr(rho O) laid flat."""

    weights: torch.Tensor  # (3^n, m) or (2 dim^2, m)
    product: bool


@full_precision
def prepare_readout(simulator: Simulator, ry: torch.Tensor, crz: torch.Tensor, noise: NoiseModel, what: str) -> Readout:
    """E^dagger(O) of the circuit's last trained block for the operators ``what`` (`measured_operators`):
    token-independent, built once per circuit and reused for every token."""
    n = ry.shape[2]
    _, block = last_block(circuit_gates(ry, crz))
    operators = evolve_back(measured_operators(n, what, ry.device), n, simulator, block, noise)
    if ry.shape[0] == 1:
        return Readout(pauli_weights(operators, n), product=True)
    # Tr(rho O) = sum_rc rho[r, c] O[c, r]; its real part, with both parts of rho laid flat
    weights = torch.view_as_real(operators.transpose(1, 2).reshape(operators.shape[0], -1))  # (m, dim^2, 2)
    return Readout(torch.cat((weights[..., 0], -weights[..., 1]), dim=1).T.contiguous(), product=False)


@full_precision
def noisy_measure(
    simulator: Simulator, angles: torch.Tensor, ry: torch.Tensor, crz: torch.Tensor, noise: NoiseModel, readout: Readout
) -> torch.Tensor:
    """Tr(rho_t O_k) per token t (T, m): the state before the last trained block, evolved per token
    chunk by chunk, met with the block's pulled-back operators (`prepare_readout`)."""
    n, dim = angles.shape[1], 2 ** angles.shape[1]
    if readout.product:
        return bloch_features(first_encoding(simulator, angles, noise, joined=False)) @ readout.weights
    gates, _ = last_block(circuit_gates(ry, crz))
    chunk = max(1, CHUNK_BYTES // (8 * dim * dim))
    results = []
    for start in range(0, angles.shape[0], chunk):
        part = angles[start : start + chunk]
        rho = first_encoding(simulator, part, noise)
        rho = evolve(rho, n, simulator, bind(gates[n:], part), noise)  # after the first encoding
        flat = torch.view_as_real(rho.reshape(rho.shape[0], -1))
        results.append(torch.cat((flat[..., 0], flat[..., 1]), dim=1) @ readout.weights)
    return torch.cat(results)


def noisy_expvals(simulator: Simulator, angles: torch.Tensor, ry, crz, noise: NoiseModel) -> torch.Tensor:
    """<Z_i> per token (T, n) on the noisy device, before readout error (nothing kept between calls)."""
    return noisy_measure(simulator, angles, ry, crz, noise, prepare_readout(simulator, ry, crz, noise, "z"))
