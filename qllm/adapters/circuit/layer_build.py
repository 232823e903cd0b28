"""The circuit layers' unitaries from their gate matrices, as one autograd Function with its backward written out.

`ansatz.layer_unitaries` takes the library's RY matrices and CRZ phases and composes each
layer's [Re M | Im M] (see its docstring for the maths).  That composition - Kronecker
products of 2x2 rotations, two rings of phases, one product with R2^T - is token-independent
and runs once per training step for all adapters together; left to autograd it was ~550 aten
operations forward and backward (every slice, view and level of the Kronecker products is
one, and each slice's backward allocates a zeroed tensor), a fifth of a short step's count on
the 4-layer Qwen2.5-0.5B shape and each one a kernel launch on a GPU.  Here it is a few dozen
products over the whole stack of layers.

The library's own calls stay outside, under autograd: the gradient reaches the angles through
the library's differentiation of its gate matrices.  Tested by `gradcheck` in float64 and,
through the fast path, against the gate-by-gate simulation in each library (values and
gradients, `tests/test_adapters.py`).
"""

from __future__ import annotations

import functools

import torch

from qllm.adapters.precision import full_precision


@functools.lru_cache(maxsize=64)
def _kron_index(factors: int, device: torch.device) -> torch.Tensor:
    """(m, 4^m): for each factor i and each entry (r, c) of the m-fold Kronecker product of 2x2 matrices laid
    flat (row-major), the position of its factor-i entry among the factors' entries laid flat: 4 i + 2 r_i + c_i
    (factor 0 the most significant bit)."""
    size = 2**factors
    rows = torch.arange(size, device=device).repeat_interleave(size)
    columns = torch.arange(size, device=device).repeat(size)
    shifts = torch.arange(factors - 1, -1, -1, device=device)[:, None]
    return 4 * torch.arange(factors, device=device)[:, None] + 2 * ((rows >> shifts) & 1) + ((columns >> shifts) & 1)


def kron_factors(matrices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., m, 2, 2) -> their Kronecker product (..., 2^m, 2^m), first factor most significant, by one gather
    and one product; and the gathered (..., m, 4^m) factor entries, which `kron_factor_gradients` needs.
    Inside this Function only: under autograd a `prod` backward synchronises with the host, so code that
    autograd differentiates uses `ansatz.kron_all`."""
    factors = matrices.shape[-3]
    index = _kron_index(factors, matrices.device)
    gathered = matrices.flatten(-3).index_select(-1, index.flatten()).unflatten(-1, index.shape)
    return gathered.prod(dim=-2).unflatten(-1, (2**factors, 2**factors)), gathered


def kron_factor_gradients(gathered: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """The gradient for the factors (..., m, 2, 2) of a `kron_factors` product, from its gathered entries and
    the product's gradient (..., 2^m, 2^m): each factor entry collects grad times the other factors' entries."""
    factors = gathered.shape[-2]
    ones = torch.ones_like(gathered[..., :1, :])
    before = torch.cat((ones, gathered[..., :-1, :].cumprod(dim=-2)), dim=-2)  # product of the factors before i
    after = torch.cat((gathered[..., 1:, :].flip(-2).cumprod(dim=-2).flip(-2), ones), dim=-2)  # ... after i
    contributions = before.mul_(after).mul_(grad.flatten(-2)[..., None, :])
    index = _kron_index(factors, gathered.device).flatten()
    flat = contributions.new_zeros(*gathered.shape[:-2], 4 * factors)
    return flat.index_add_(-1, index, contributions.flatten(-2)).unflatten(-1, (factors, 2, 2))


def _swap_inner(tensor: torch.Tensor, rows: int, columns: int) -> torch.Tensor:
    """(K, T * rows * columns) laid out as (K, T, rows, columns) -> (K, T * columns, rows): each (rows, columns)
    block transposed, so that a contraction over the rows becomes a right-multiplication (one copy)."""
    return tensor.reshape(tensor.shape[0], -1, rows, columns).transpose(2, 3).reshape(tensor.shape[0], -1, rows)


class LayerUnitaries(torch.autograd.Function):
    """rotations (K, 2, n, 2, 2) real, the two RY columns of K layers; gate phases (K, 2, n, 4), the phases of
    the CRZ rings' diagonals; selectors (2, n, 2^n), which diagonal entry of each ring gate every basis state
    takes -> [Re M | Im M] (K, 2^n, 2^(n+1)).  n >= 2.

    The rows t = (j, re/im) of M, with columns k = (k_a, k_b): R1 = H0 (x) L0 and R2 = H1 (x) L1 are
    the Kronecker products of the two RY columns over the high (a) and the low (b) wires, and
    M[t] = (R1^T[j] * trig Phi[j]) (H1^T (x) L1^T): a right-multiplication by L1^T, a transpose of
    each (a, b) block, a right-multiplication by H1^T, and the transpose back.  Plain batched
    products and copies, no einsum (whose bookkeeping is ~30 operations a call).
    """

    @staticmethod
    def forward(ctx, rotations, gate_phases, selectors):
        layers, n = rotations.shape[0], rotations.shape[2]
        half, dim = n // 2, 2**n
        if 2 * half == n:  # both halves the same size: one Kronecker product for all four
            both, gathered = kron_factors(rotations.unflatten(2, (2, half)))  # (K, 2, 2, A, A)
            high, low, gathered = both[:, :, 0], both[:, :, 1], (gathered,)
        else:
            (high, high_gathered), (low, low_gathered) = map(kron_factors, rotations.split([half, n - half], dim=2))
            gathered = (high_gathered, low_gathered)
        (high_0, high_1), (low_0, low_1) = high.unbind(1), low.unbind(1)
        size_a, size_b = high.shape[-1], low.shape[-1]
        expanded = selectors.expand(layers, *selectors.shape)
        phases = torch.gather(gate_phases, 3, expanded).sum(dim=2)  # (K, 2, dim): each ring's phase per basis state
        first_t = (
            high_0.transpose(-1, -2)[:, :, None, :, None] * low_0.transpose(-1, -2)[:, None, :, None, :]
        ).reshape(layers, dim, dim)  # R1^T
        angle = phases[:, 0, :, None] + phases[:, 1, None, :]  # Phi[j, m] = phi1_j + phi2_m
        trig = torch.stack((torch.cos(angle), torch.sin(angle)), dim=2)  # (K, j, re/im, m)
        parts = (first_t[:, :, None, :] * trig).reshape(layers, -1, size_b)  # rows (t, m_a), columns m_b
        # L1^T applied, then each block transposed: rows (t, k_b), columns m_a
        swapped = _swap_inner(torch.bmm(parts, low_1.transpose(-1, -2)), size_a, size_b)
        ctx.save_for_backward(high_0, high_1, low_0, low_1, first_t, trig, swapped, expanded, *gathered)
        return _swap_inner(torch.bmm(swapped, high_1.transpose(-1, -2)), size_b, size_a).reshape(layers, dim, 2 * dim)

    @staticmethod
    @full_precision  # the engine may call it inside an autocast region (the forward ran outside one)
    def backward(ctx, grad):
        high_0, high_1, low_0, low_1, first_t, trig, swapped, expanded, *gathered = ctx.saved_tensors
        layers, dim = first_t.shape[:2]
        size_a, size_b = high_0.shape[-1], low_0.shape[-1]
        # rows (t, k_b), columns k_a; contiguous first, as bmm loops over a broadcast gradient
        grad_swapped_out = _swap_inner(grad.contiguous(), size_a, size_b)
        grad_high_1 = torch.bmm(grad_swapped_out.transpose(-1, -2), swapped)
        grad_after_b = _swap_inner(torch.bmm(grad_swapped_out, high_1), size_b, size_a)  # rows (t, m_a), columns k_b
        parts = (first_t[:, :, None, :] * trig).reshape(layers, -1, size_b)
        grad_low_1 = torch.bmm(grad_after_b.transpose(-1, -2), parts)
        grad_parts = torch.bmm(grad_after_b, low_1).reshape(trig.shape)
        grad_first_t = (grad_parts * trig).sum(dim=2)
        cos, sin = trig.unbind(2)
        grad_angle = (grad_parts[:, :, 1] * cos - grad_parts[:, :, 0] * sin).mul_(first_t)
        grad_phases = torch.stack((grad_angle.sum(dim=2), grad_angle.sum(dim=1)), dim=1)  # (K, 2, dim)
        grad_gate_phases = grad.new_zeros(expanded.shape[:3] + (4,))
        grad_gate_phases.scatter_add_(3, expanded, grad_phases[:, :, None, :].expand(expanded.shape))
        # R1^T[(j_a, j_b), (m_a, m_b)] = H0[m_a, j_a] L0[m_b, j_b]: blocks regrouped as ((j_a, m_a), (j_b, m_b))
        blocks = grad_first_t.reshape(layers, size_a, size_b, size_a, size_b).transpose(2, 3)
        blocks = blocks.reshape(layers, size_a * size_a, size_b * size_b)
        grad_high_0 = (
            torch.bmm(blocks, low_0.transpose(-1, -2).reshape(layers, -1, 1))
            .reshape(layers, size_a, size_a)
            .transpose(-1, -2)
        )
        grad_low_0 = (
            torch.bmm(high_0.transpose(-1, -2).reshape(layers, 1, -1), blocks)
            .reshape(layers, size_b, size_b)
            .transpose(-1, -2)
        )
        grad_high, grad_low = torch.stack((grad_high_0, grad_high_1), 1), torch.stack((grad_low_0, grad_low_1), 1)
        if len(gathered) == 1:
            grad_rotations = kron_factor_gradients(gathered[0], torch.stack((grad_high, grad_low), dim=2)).flatten(2, 3)
        else:
            grad_rotations = torch.cat(
                (kron_factor_gradients(gathered[0], grad_high), kron_factor_gradients(gathered[1], grad_low)), dim=2
            )
        return grad_rotations, grad_gate_phases, None
