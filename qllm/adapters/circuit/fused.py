"""The training forward of a one-layer circuit adapter as one autograd Function, its backward written out.

The adapter is B((Q <Z>(A x) + C A x) * scaling) with a one-layer circuit (the default
q_depth 1): per token one product state, one product with the layer's [Re M | Im M], and
four small linear maps.  Left to autograd that is ~390 aten operations per adapted module
and step (views included), where LoRA's two maps are ~85; on a GPU each computing one is a
kernel launch, and every one, view or not, is a dispatch on the host, which a short batch
waits for.  Here it is ~105: a dozen calls each way, each a product over the whole batch.
Hence also the small habits below: `transpose(0, 1)` (two operations; `.t()` is three),
`split` with sizes (three; an int split is seven), and multiplications by cached 0-d tensors
(`scalar`; a Python number is wrapped and converted first, five).  The gradient of the
unitary flows on to the circuit angles through the layers' batched build
(`layer_build.LayerUnitaries`).

The product state's derivative needs no division or cumulative product: with
p_b = prod_i f_i(b_i), f = (cos h/2, sin h/2), the derivative of f is half the other
component with a sign, so dp_b/dh_i = 1/2 (2 b_i - 1) p_(b with bit i flipped).

Tested against autograd through the composed adapter (`CircuitAdapter.unfused_forward`) and,
through it, against the gate-by-gate simulation in each library; and by `gradcheck` in float64.
"""

from __future__ import annotations

import functools

import torch

from qllm.adapters.circuit.ansatz import basis_bits, product_over_wires, scalar, z_signs_twice
from qllm.adapters.precision import full_precision


@functools.lru_cache(maxsize=64)
def _flipped_and_signs(n_qubits: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(n * 2^n) index of each basis state with wire i's bit flipped (wire after wire), and (n, 2^n) 2 b_i - 1."""
    bits = basis_bits(n_qubits, device)
    index = torch.arange(2**n_qubits, device=device)
    flipped = index[None, :] ^ (1 << torch.arange(n_qubits - 1, -1, -1, device=device))[:, None]
    return flipped.flatten(), (2 * bits - 1).to(dtype)


@functools.lru_cache(maxsize=64)
def _doubled_signs_t(n_qubits: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(n, 2^(n+1)): d<Z_i>/d amplitude_b = 2 Z_i(b) amplitude_b, the transposed `z_signs_twice` doubled, kept
    contiguous for the backward's product."""
    return (2 * z_signs_twice(n_qubits, device, dtype)).T.contiguous()


# Up to this many elements (4 MiB in float32) the product state is one (T, n, 2^n) gather (a short batch,
# where the number of operations counts); above it, two per-half gathers joined by an outer product.
ONE_GATHER_MAX_ELEMENTS = 2**20


class OneLayerCircuitAdapter(torch.autograd.Function):
    """rows (T, d_in) -> (T, d_out) for weights A (n, d_in), Q, C (n, n), B (d_out, n) and the circuit's
    [Re M | Im M] (1, 2^n, 2^(n+1)), as `CircuitAdapter.layer_unitaries` gives it; ``scaling`` a float."""

    @staticmethod
    def forward(ctx, rows, a, q, c, b, unitaries, scaling: float):
        unitary = unitaries[0]  # indexed here, not by the caller: its backward would allocate a zeroed copy
        angles = torch.mm(rows, a.transpose(0, 1))  # h, (T, n)
        n = angles.shape[1]
        half = angles * scalar(0.5, rows.device, rows.dtype)
        cos, sin = torch.cos(half), torch.sin(half)  # (T, n) each: every wire's amplitudes
        if len(rows) * n * 2**n <= ONE_GATHER_MAX_ELEMENTS:  # a short batch: one gather, the fewest operations
            state, halves = product_over_wires(torch.cat((cos, sin), dim=1)), ()
        else:  # a long one: two small gathers joined, far less memory traffic than one (T, n, 2^n) gather
            halves = wire_halves(cos, sin)
            state = (halves[0][:, :, None] * halves[1][:, None, :]).reshape(len(rows), -1)  # (T, 2^n)
        amplitudes = torch.mm(state, unitary)  # [Re | Im] of the final state, (T, 2^(n+1))
        expvals = torch.mm(amplitudes * amplitudes, z_signs_twice(n, rows.device, rows.dtype))  # <Z_i>, (T, n)
        features, maps = torch.cat((expvals, angles), dim=1), torch.cat((q, c), dim=1)  # Q <Z> + C h in one product
        mixed = torch.mm(features, maps.transpose(0, 1))  # Q <Z> + C h
        mixed.mul_(scalar(scaling, rows.device, rows.dtype))
        ctx.scaling = scaling
        ctx.save_for_backward(rows, a, maps, b, unitary, state, amplitudes, features, mixed, *halves)
        return torch.mm(mixed, b.transpose(0, 1))

    @staticmethod
    @full_precision  # the engine may call it inside an autocast region (the forward ran outside one)
    def backward(ctx, grad):
        rows, a, maps, b, unitary, state, amplitudes, features, mixed, *halves = ctx.saved_tensors
        n = a.shape[0]
        needs = ctx.needs_input_grad
        grad_mixed = torch.mm(grad, b).mul_(scalar(ctx.scaling, rows.device, rows.dtype))  # (T, n)
        grad_features = torch.mm(grad_mixed, maps)  # (T, 2n): d<Z>, then dh
        grad_expvals, grad_angles = grad_features.split([n, n], dim=1)
        grad_amplitudes = torch.mm(grad_expvals, _doubled_signs_t(n, rows.device, rows.dtype)).mul_(amplitudes)
        grad_state = torch.mm(grad_amplitudes, unitary.transpose(0, 1))  # (T, 2^n)
        if halves:
            high, low = halves
            grad_state = grad_state.reshape(len(rows), high.shape[-1], low.shape[-1])
            grad_high = torch.bmm(grad_state, low[:, :, None])[:, :, 0]
            grad_low = torch.bmm(high[:, None, :], grad_state)[:, 0]
            grad_angles += wire_gradients(high, low, grad_high, grad_low)
        else:
            grad_angles += product_gradients(state, grad_state)
        grad_q = grad_c = None
        if needs[2] or needs[3]:
            grad_q, grad_c = torch.mm(grad_mixed.transpose(0, 1), features).split([n, n], dim=1)  # [dQ | dC], (n, 2n)
        return (
            torch.mm(grad_angles, a) if needs[0] else None,
            torch.mm(grad_angles.transpose(0, 1), rows) if needs[1] else None,
            grad_q if needs[2] else None,
            grad_c if needs[3] else None,
            torch.mm(grad.transpose(0, 1), mixed) if needs[4] else None,
            torch.mm(state.transpose(0, 1), grad_amplitudes)[None] if needs[5] else None,
            None,
        )


def wire_halves(cos: torch.Tensor, sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, n) cosines and sines of the wires' half angles -> the product states of the first n // 2 wires and of
    the others: (T, 2^(n/2)) twice, a small gather each rather than one (T, n, 2^n) for the whole state; one
    gather for both when n is even."""
    tokens, n = cos.shape
    half = n // 2
    if n % 2 == 0:
        both = product_over_wires(torch.cat((cos.reshape(tokens, 2, half), sin.reshape(tokens, 2, half)), dim=2))
        return both[:, 0], both[:, 1]
    return (
        product_over_wires(torch.cat((cos[:, :half], sin[:, :half]), dim=1)),
        product_over_wires(torch.cat((cos[:, half:], sin[:, half:]), dim=1)),
    )


def wire_gradients(high: torch.Tensor, low: torch.Tensor, grad_high: torch.Tensor, grad_low: torch.Tensor):
    """d loss / d h (T, n) from the two halves' product states and their gradients (`product_gradients`), one
    pass for both when they are the same size."""
    if high.shape == low.shape:
        return product_gradients(torch.stack((high, low), dim=1), torch.stack((grad_high, grad_low), dim=1)).flatten(1)
    return torch.cat((product_gradients(high, grad_high), product_gradients(low, grad_low)), dim=1)


def product_gradients(state: torch.Tensor, grad_state: torch.Tensor) -> torch.Tensor:
    """(..., 2^m) product states of m wires and the loss's gradients for them -> d loss / d h, (..., m); for
    wire i, 1/2 sum_b grad_b (2 b_i - 1) state_(b with bit i flipped).  (..., 0) for no wire."""
    wires = state.shape[-1].bit_length() - 1
    flipped, signs = _flipped_and_signs(wires, state.device, state.dtype)
    partners = state.index_select(-1, flipped).unflatten(-1, signs.shape)  # (..., m, 2^m)
    half = scalar(0.5, state.device, state.dtype)
    return partners.mul_(signs).mul_(grad_state[..., None, :]).sum(dim=-1).mul_(half)
