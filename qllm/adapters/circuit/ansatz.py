"""The variational circuit shared by `vqc` (pyvqnet) and `tq` (torchquantum).

Per layer l = 1..q_depth, on n wires (wire 0 is the most significant bit of a basis index):

    RY(h_i) on every wire              data re-uploading, one angle per wire and token
    CRZ(a_i) control i, target i+1     ring, trainable
    RY(b_i) on every wire              trainable
    CRZ(c_i) control i, target i-1     ring, trainable
    RY(d_i) on every wire              trainable

then <Z_i> on every wire.  With one wire the CRZ rings are empty.

Two ways to get the same numbers, both through a `Simulator` (one per library):

* `reference_expvals`: every gate applied to every token's state by the library, and
  the library's own measurement.  The plain simulation; the fast path is tested on it.
* `fast_expvals`: the token-independent part of a layer (everything after the encoding)
  is one unitary V_l, composed once per forward pass from the library's own gate
  matrices; each token then costs one matrix product.  The first
  encoding acts on |0...0>, so it is a real product state written down directly; later
  encodings are Kronecker products of the library's RY matrices, applied as two batched
  products.  The whole fast path is real ([Re | Im] rows): fewer, larger kernels, and
  code that torch.compile's inductor can generate (it does not generate complex code).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Protocol

import torch

from qllm.adapters.circuit.layer_build import LayerUnitaries
from qllm.adapters.precision import full_precision

# Above this the 2^n x 2^n unitary costs more than applying the gates per token.
FAST_PATH_MAX_QUBITS = 10


@dataclass(frozen=True)
class Gate:
    name: str  # "ry" or "crz"
    wires: tuple[int, ...]  # (wire,) or (control, target)
    params: torch.Tensor | None  # one angle (0-d) shared by the batch, or one per batch element (B,); None:
    # a data-encoding gate of `circuit_gates` before `bind` gives it the tokens' angles
    symbol: str = "h"  # the angle's name in the docstring above (h: data; a, b, c, d: trained), for diagrams
    layer: int = 0  # the circuit layer the gate belongs to


class Simulator(Protocol):
    """A statevector library: runs a gate list on a batch of states and measures <Z_i>."""

    name: str

    def run(self, n_qubits: int, gates: list[Gate], states: torch.Tensor | None, batch: int) -> torch.Tensor:
        """Final states (batch, 2^n) complex64; ``states=None`` starts every element in |0...0>."""

    def expval_z(self, n_qubits: int, gates: list[Gate], batch: int) -> torch.Tensor:
        """<Z_i> (batch, n) after running ``gates`` from |0...0>, measured by the library."""

    def gate_matrices(self, name: str, params: torch.Tensor) -> torch.Tensor:
        """(K, d, d) complex matrices of K gates of one kind (one angle each), from the library's definitions."""


def ring(n_qubits: int, step: int) -> list[tuple[int, int]]:
    """(control, target) pairs of a CRZ ring; empty for a single wire."""
    if n_qubits < 2:
        return []
    return [(i, (i + step) % n_qubits) for i in range(n_qubits)]


def encoding_gates(angles: torch.Tensor) -> list[Gate]:
    return [Gate("ry", (i,), angles[:, i]) for i in range(angles.shape[1])]


def trainable_gates(ry: torch.Tensor, crz: torch.Tensor, layer: int = 0) -> list[Gate]:
    """The gates of one layer after its encoding; ``ry``: (2, n), ``crz``: (2, n) or (2, 0)."""
    n = ry.shape[1]
    gates = [Gate("crz", pair, crz[0, k], "a", layer) for k, pair in enumerate(ring(n, +1))]
    gates += [Gate("ry", (i,), ry[0, i], "b", layer) for i in range(n)]
    gates += [Gate("crz", pair, crz[1, k], "c", layer) for k, pair in enumerate(ring(n, -1))]
    gates += [Gate("ry", (i,), ry[1, i], "d", layer) for i in range(n)]
    return gates


def circuit_gates(ry: torch.Tensor, crz: torch.Tensor) -> list[Gate]:
    """The whole circuit as one gate list, layer by layer: the data encoding (angles left unbound: `bind`),
    then the layer's trained gates.  What the simulators run and what `qllm circuit` draws and exports."""
    n = ry.shape[2]
    gates: list[Gate] = []
    for layer in range(ry.shape[0]):
        gates += [Gate("ry", (i,), None, "h", layer) for i in range(n)]
        gates += trainable_gates(ry[layer], crz[layer], layer)
    return gates


def bind(gates: list[Gate], angles: torch.Tensor) -> list[Gate]:
    """``gates`` with every data-encoding gate given its angle for each token (``angles``: (T, n))."""
    return [replace(gate, params=angles[:, gate.wires[0]]) if gate.params is None else gate for gate in gates]


@functools.lru_cache(maxsize=64)
def basis_bits(n_qubits: int, device: torch.device) -> torch.Tensor:
    """(n, 2^n): the bit of wire i (wire 0 most significant) in each basis index."""
    index = torch.arange(2**n_qubits, device=device)
    return (index[None, :] >> torch.arange(n_qubits - 1, -1, -1, device=device)[:, None]) & 1


@functools.lru_cache(maxsize=64)
def z_signs_twice(n_qubits: int, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(2^(n+1), n): +1 where wire i of basis state b is 0, -1 where it is 1, for the real rows then the imaginary."""
    signs = 1.0 - 2.0 * basis_bits(n_qubits, device).T.to(dtype)
    return torch.cat((signs, signs))


@functools.lru_cache(maxsize=64)
def scalar(value: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A 0-d tensor of ``value``: multiplying by it is one operation, where a Python number is first wrapped
    into a tensor and converted (four more, each a dispatch on the host in a launch-bound step).  Made outside
    inference mode, so that a first call there does not leave a tensor autograd refuses to keep."""
    with torch.inference_mode(False):
        return torch.tensor(value, device=device, dtype=dtype)


@functools.lru_cache(maxsize=64)
def _amplitude_index(n_qubits: int, device: torch.device) -> torch.Tensor:
    """(n, 2^n) positions in a token's amplitudes laid flat as [cos of each wire | sin of each wire]: wire i's
    cos at i, its sin at n + i; its bit in basis state b picks one."""
    return torch.arange(n_qubits, device=device)[:, None] + n_qubits * basis_bits(n_qubits, device)


def product_over_wires(amplitudes: torch.Tensor) -> torch.Tensor:
    """(..., 2m) per-wire amplitudes laid flat as [cos | sin] (one `cat`) -> (..., 2^m): each basis state's
    product, one gather (index_select: several times advanced indexing's speed)."""
    index = _amplitude_index(amplitudes.shape[-1] // 2, amplitudes.device)
    return amplitudes.index_select(-1, index.flatten()).unflatten(-1, index.shape).prod(dim=-2)


def product_state(angles: torch.Tensor, trainable: bool = True) -> torch.Tensor:
    """RY(angles) applied to |0...0>: the real vector (T, 2^n) of kron_i (cos(h_i/2), sin(h_i/2)).

    For a frozen circuit (generation, whose cost per token is mostly the number of operations)
    one gather picks every basis state's n factors and one product multiplies them.  While the
    circuit trains, that (T, n, 2^n) tensor would be kept for the backward pass (and a product's
    backward asks the host whether any factor is zero, a GPU synchronisation), so the wires'
    pairs are multiplied level by level instead (`kron_all`: log2(n) products, each kept tensor
    at most (T, 2^(n/2)) twice).  The choice follows the circuit, not the grad mode, so that a
    training process computes alike with and without gradients (evaluation, reentrant
    checkpointing's first pass).
    """
    half = angles / 2
    cos, sin = torch.cos(half), torch.sin(half)
    if not trainable:
        return product_over_wires(torch.cat((cos, sin), dim=-1))
    return kron_vectors(torch.stack((cos, sin), dim=-1))  # (T, n, 2)


def kron_vectors(vectors: torch.Tensor) -> torch.Tensor:
    """(T, m, k) -> (T, k^m): each row's Kronecker product of its m vectors (first most significant), neighbours
    multiplied in pairs, all pairs of a level in one product (`kron_all` for vectors, with fewer views)."""
    count = vectors.shape[1]
    if count == 1:
        return vectors[:, 0]
    if count % 2:
        rest = kron_vectors(vectors[:, 1:])
        return (vectors[:, 0, :, None] * rest[:, None, :]).reshape(vectors.shape[0], -1)
    paired = vectors[:, 0::2, :, None] * vectors[:, 1::2, None, :]
    return kron_vectors(paired.reshape(vectors.shape[0], count // 2, -1))


@functools.lru_cache(maxsize=64)
def _ring_selectors(n_qubits: int, pairs: tuple[tuple[int, int], ...], device: torch.device) -> torch.Tensor:
    """For each pair, the index 2*bit(control) + bit(target) of every basis state (wire 0 = top bit)."""
    bits = basis_bits(n_qubits, device)
    return torch.stack([2 * bits[control] + bits[target] for control, target in pairs])


def ring_diagonal(diagonals: torch.Tensor, pairs: list[tuple[int, int]], n_qubits: int) -> torch.Tensor:
    """The 2^n diagonals (K, 2^n) of K rings of diagonal two-wire gates, ``diagonals``: (K, len(pairs), 4)."""
    selectors = _ring_selectors(n_qubits, tuple(pairs), diagonals.device)
    selectors = selectors.expand(diagonals.shape[0], *selectors.shape)
    return torch.gather(diagonals, 2, selectors).prod(dim=1)


def kron(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Batched Kronecker product of two matrices: (..., p1, q1) x (..., p2, q2) -> (..., p1 p2, q1 q2)."""
    product = first[..., :, None, :, None] * second[..., None, :, None, :]
    return product.reshape(*product.shape[:-4], first.shape[-2] * second.shape[-2], first.shape[-1] * second.shape[-1])


def kron_all(matrices: torch.Tensor) -> torch.Tensor:
    """Batched Kronecker product over dim -3: (..., m, p, q) -> (..., p^m, q^m), first factor most significant.

    Neighbours are multiplied in pairs, all pairs of a level in one product, so m factors cost
    about log2(m) products (each a kernel on a GPU) rather than m - 1, and only the last is full size.
    """
    count = matrices.shape[-3]
    if count == 1:
        return matrices[..., 0, :, :]
    if count % 2:  # odd: the first factor joins the product of the others
        return kron(matrices[..., 0, :, :], kron_all(matrices[..., 1:, :, :]))
    p, q = matrices.shape[-2:]
    paired = matrices[..., 0::2, :, None, :, None] * matrices[..., 1::2, None, :, None, :]
    return kron_all(paired.reshape(*matrices.shape[:-3], count // 2, p * p, q * q))


def kron_halves(matrices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., n, p, q) -> the Kronecker products of the first n // 2 factors and of the others (one product
    for both when n is even)."""
    n, half = matrices.shape[-3], matrices.shape[-3] // 2
    if n % 2 == 0:
        both = kron_all(matrices.reshape(*matrices.shape[:-3], 2, half, *matrices.shape[-2:]))
        return both[..., 0, :, :], both[..., 1, :, :]
    return kron_all(matrices[..., :half, :, :]), kron_all(matrices[..., half:, :, :])


@functools.lru_cache(maxsize=64)
def _both_ring_selectors(n_qubits: int, device: torch.device) -> torch.Tensor:
    """(2, n, 2^n): `_ring_selectors` of the +1 ring then the -1 ring."""
    return torch.stack([_ring_selectors(n_qubits, tuple(ring(n_qubits, step)), device) for step in (+1, -1)])


def ring_gate_phases(simulator: Simulator, crz: torch.Tensor) -> torch.Tensor:
    """(K, 2, n, 4): the phases of the diagonals of a layer's two CRZ rings' gates, ``crz``: (K, 2, n).

    A CRZ is diagonal with unit entries (the library's matrix), so a ring's diagonal is
    exp(i * the sum of its gates' phases): real sums instead of complex products.
    """
    diagonals = simulator.gate_matrices("crz", crz.reshape(-1)).diagonal(dim1=1, dim2=2)  # (K*2*n, 4)
    return torch.angle(diagonals).reshape(*crz.shape, 4)


@full_precision  # the tuner builds them outside the adapters, where the Trainer's autocast is on
def layer_unitaries(simulator: Simulator, ry: torch.Tensor, crz: torch.Tensor) -> torch.Tensor:
    """[Re M | Im M], (K, 2^n, 2^(n+1)) real, for K circuit layers at once; ``ry``: (K, 2, n), ``crz``: (K, 2, m).

    M[b] = V|b> for a layer's trainable gates, so states stored as rows map to ``rows @ M``.
    V = R2 diag(D2) R1 diag(D1): each RY column is a Kronecker product of real 2x2 matrices and
    each CRZ ring a diagonal of phases, all from the library's gate matrices (one call per gate
    kind for all K layers).  Everything after that is real: with Phi[j, k] = phi1_j + phi2_k,
    M = [(R1^T * cos Phi) R2^T | (R1^T * sin Phi) R2^T], and R2^T = Ra^T (x) Rb^T is applied as
    two small contractions (`layer_build.LayerUnitaries`, its backward written out).  K covers
    every layer of every adapter that shares the simulator and width, so a training step pays
    the per-call overhead once, not per module.
    """
    layers, n = ry.shape[0], ry.shape[2]
    rotations = simulator.gate_matrices("ry", ry.reshape(-1)).real.reshape(layers, 2, n, 2, 2)  # RY is real
    if n == 1:  # one wire: no ring; V = R2 R1 is real
        real = rotations[:, 0, 0].transpose(1, 2) @ rotations[:, 1, 0].transpose(1, 2)
        return torch.cat((real, torch.zeros_like(real)), dim=2)
    # A statement of its own: pyvqnet's Cython matrices break a torch.compile graph, and a break inside the
    # call's arguments would resume with the bound `apply` on the stack, a new object each step (a recompile)
    gate_phases = ring_gate_phases(simulator, crz)
    return LayerUnitaries.apply(rotations, gate_phases, _both_ring_selectors(n, crz.device))


def encode(simulator: Simulator, both: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """RY(h_i) on every wire of each token's state, [Re | Im] rows (T, 2^(n+1)) -> the same, real throughout.

    The encoding is a Kronecker product of real 2x2 rotations (the library's RY matrices, one
    call for all tokens and wires), so it is applied as E_high psi E_low^T: two batched
    products per token instead of n gate applications on a complex state.
    """
    tokens, n = angles.shape
    rotations = simulator.gate_matrices("ry", angles.reshape(-1)).real.reshape(tokens, n, 2, 2)
    half = n // 2
    if half == 0:
        return torch.bmm(both.reshape(tokens, 2, 2), rotations[:, 0].transpose(1, 2)).reshape(tokens, 4)
    high, low = kron_halves(rotations)
    states = both.reshape(tokens, 2, high.shape[-1], low.shape[-1])  # (token, re/im, high wires, low wires)
    states = torch.einsum("tac,tpcd,tbd->tpab", high, states, low)  # einsum: see `layer_unitaries`
    return states.reshape(tokens, -1)


def complex_action(unitaries: torch.Tensor) -> torch.Tensor:
    """[Re M | Im M] (2^n, 2^(n+1)) -> the real (2^(n+1), 2^(n+1)) matrix [[Re M, Im M], [-Im M, Re M]]:
    [Re psi | Im psi] @ it = [Re | Im] of psi M."""
    dim = unitaries.shape[0]
    return torch.cat((unitaries, torch.cat((-unitaries[:, dim:], unitaries[:, :dim]), dim=1)))


@full_precision
def fast_states(
    simulator: Simulator,
    angles: torch.Tensor,
    ry: torch.Tensor,
    crz: torch.Tensor,
    unitaries: torch.Tensor | None = None,
) -> torch.Tensor:
    """The circuit's final state per token as [Re | Im], (T, 2^(n+1)) real; ``ry``/``crz``: (q_depth, 2, n);
    ``unitaries``: the layers' `layer_unitaries` when the caller has them already, else built here."""
    if unitaries is None:
        unitaries = layer_unitaries(simulator, ry, crz)
    # The first state is real: one real product with [Re M | Im M] gives both parts.
    both = product_state(angles, trainable=ry.requires_grad) @ unitaries[0]
    for layer in range(1, ry.shape[0]):
        both = encode(simulator, both, angles) @ complex_action(unitaries[layer])
    return both


@full_precision
def fast_expvals(
    simulator: Simulator,
    angles: torch.Tensor,
    ry: torch.Tensor,
    crz: torch.Tensor,
    unitaries: torch.Tensor | None = None,
) -> torch.Tensor:
    """<Z_i> per token (T, n), from `fast_states`."""
    both = fast_states(simulator, angles, ry, crz, unitaries)
    return both.square() @ z_signs_twice(angles.shape[1], angles.device)  # sum over b of |amplitude_b|^2 * Z_i(b)


def meyer_wallach(both: torch.Tensor, n_qubits: int) -> torch.Tensor:
    """The Meyer–Wallach entanglement Q of each state ([Re | Im] rows, as `fast_states` gives): 0 for a product
    state, up to 1; Q = 2 (1 - mean_i Tr rho_i^2), rho_i the state of wire i alone (Meyer & Wallach 2002)."""
    dim = 2**n_qubits
    state = torch.complex(both[:, :dim], both[:, dim:])
    purities = []
    for wire in range(n_qubits):  # wire 0 is the most significant bit of a basis index
        halves = state.reshape(state.shape[0], 2**wire, 2, -1).transpose(1, 2).reshape(state.shape[0], 2, -1)
        rho = halves @ halves.conj().transpose(1, 2)  # (T, 2, 2): the state of this wire alone
        purities.append(rho.abs().square().sum(dim=(1, 2)))
    return 2 * (1 - torch.stack(purities, dim=1).mean(dim=1))


@full_precision
def reference_expvals(simulator: Simulator, angles: torch.Tensor, ry: torch.Tensor, crz: torch.Tensor) -> torch.Tensor:
    """<Z_i> per token, every gate simulated on every token by the library."""
    return simulator.expval_z(angles.shape[1], bind(circuit_gates(ry, crz), angles), batch=angles.shape[0])


def init_circuit_weights(n_qubits: int, q_depth: int, generator: torch.Generator | None = None):
    """(ry, crz) angles drawn uniformly from [0, 2*pi): any start is an identity of the adapter (B = 0)."""
    ry = torch.rand(q_depth, 2, n_qubits, generator=generator) * 2 * math.pi
    crz = torch.rand(q_depth, 2, len(ring(n_qubits, 1)), generator=generator) * 2 * math.pi
    return ry, crz
