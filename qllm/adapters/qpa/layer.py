"""QPA's adapter: a small circuit and a mapping network generate a LoRA update's A and B.

The network is the official code's (github CYLphysics/QPA, `qpa_lora.py`, with one
sub-hypernetwork as its `train.py` uses): RY on every wire then a CNOT chain, `q_depth`
times, from |0…0⟩ (torchquantum, as there); the basis-state probabilities p are
post-processed to (β tanh(γ 2^(n−1) p))^α − mean with β = 0.6, γ = 0.1, α = 0.15; each
chunk's value, after the ±1 bits of its index, goes through the mapping network (Linear
layers with no activation between them, as there) to `chunk_size` weights; the chunks,
concatenated, cut to r·(d_out + d_in) and centred, are B (d_out × r, first) and A (r × d_in).

One departure, documented in docs/adapters.md: the official code pairs each probability
with a bit string drawn at random on every forward pass; the paper (and this code) pairs
p_b with the bits of b, so an adapter computes the same function every time it is run.

The update starts at exactly zero by subtracting the starting one: s·(B A dropout(x) − B₀ A₀ x),
with B₀, A₀ the starting generation kept as buffers (saved with the adapter), as quanTA's
`frozen_copy` does; every generator parameter receives gradients from the first step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from qllm.adapters.frozen_cache import FrozenCache
from qllm.adapters.layer import AdapterLinear
from qllm.adapters.precision import full_precision
from qllm.errors import InvalidField

# the official post-processing of the probabilities: (BETA * tanh(GAMMA * 2^(n-1) * p)) ** EXPONENT - mean
BETA, GAMMA, EXPONENT = 0.60, 0.1, 0.15


def qubits_for(chunks: int) -> int:
    """⌈log2(chunks)⌉ wires give a probability per chunk; at least one wire (one chunk: the official code's 0)."""
    return max(1, math.ceil(math.log2(chunks)))


def index_signs(n_qubits: int, count: int) -> torch.Tensor:
    """(count, n) the bits of 0, 1, … count−1 as ±1, least significant first (the official bit order)."""
    indices = torch.arange(count).unsqueeze(1)
    return ((indices >> torch.arange(n_qubits)) & 1).float() * 2 - 1


def post_process(probabilities: torch.Tensor, n_qubits: int) -> torch.Tensor:
    shaped = (BETA * torch.tanh(GAMMA * 2 ** (n_qubits - 1) * probabilities)) ** EXPONENT
    return shaped - shaped.mean()


class QPAGenerator(nn.Module):
    """All of one layer's generated weights: a circuit's probabilities, mapped chunk by chunk."""

    def __init__(self, weight_count: int, chunk_size: int, q_depth: int, hidden_sizes: list[int]) -> None:
        super().__init__()
        self.weight_count, self.chunk_size = weight_count, chunk_size
        self.chunks = math.ceil(weight_count / chunk_size)
        self.n_qubits = qubits_for(self.chunks)
        # torchquantum's Op1QAllLayer(RY, has_params=True) draws each angle from U(-π, π)
        self.angles = nn.Parameter(torch.empty(q_depth, self.n_qubits).uniform_(-math.pi, math.pi))
        widths = [self.n_qubits + 1, *hidden_sizes, chunk_size]
        self.mapping = nn.Sequential(*(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])))
        self.register_buffer("signs", index_signs(self.n_qubits, self.chunks), persistent=False)

    def probabilities(self) -> torch.Tensor:
        """|⟨b|U|0…0⟩|² for every basis state b (wire 0 the most significant bit), by torchquantum."""
        import torchquantum as tq
        import torchquantum.functional as tqf

        qdev = tq.QuantumDevice(n_wires=self.n_qubits, bsz=1, device=self.angles.device)
        for block in self.angles:
            for wire, angle in enumerate(block):
                tqf.ry(qdev, wires=wire, params=angle.reshape(1))
            for wire in range(self.n_qubits - 1):  # Op2QAllLayer(CNOT, circular=False)
                tqf.cnot(qdev, wires=[wire, wire + 1])
        return qdev.get_states_1d()[0].abs() ** 2

    def forward(self) -> torch.Tensor:
        """The flat (weight_count,) generated weights, centred."""
        values = post_process(self.probabilities(), self.n_qubits)[: self.chunks]
        inputs = torch.cat((self.signs, values.unsqueeze(1)), dim=1)
        weights = self.mapping(inputs).reshape(-1)[: self.weight_count]
        return weights - weights.mean()


class GeneratedLoRA(nn.Module):
    """One layer's QPA adapter: s·(B A dropout(x) − B₀ A₀ x) with (B, A) generated, s = alpha / r.

    The update is linear in x, so it merges into the base weight (`delta_weight`).  A frozen
    adapter (chat, evaluation, export) generates its weights once per parameter version.
    """

    def __init__(self, in_features: int, out_features: int, config) -> None:
        super().__init__()
        self.in_features, self.out_features, self.rank = in_features, out_features, config.r
        self.scale = config.alpha / config.r
        self.generator = QPAGenerator(
            config.r * (in_features + out_features), config.chunk_size, config.q_depth, config.hidden_sizes
        )
        with torch.no_grad():
            start_b, start_a = self.weights()
        self.register_buffer("start_b", start_b.clone())
        self.register_buffer("start_a", start_a.clone())
        self._generated = FrozenCache()  # (B, A) of a frozen adapter; never saved
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(B (d_out × r), A (r × d_in)) as the generator makes them now."""
        flat = self.generator()
        cut = self.out_features * self.rank
        return flat[:cut].reshape(self.out_features, self.rank), flat[cut:].reshape(self.rank, self.in_features)

    def update(self, rows: torch.Tensor, dropped: torch.Tensor, b: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Rows (N, d_in) -> (N, d_out): the generated low-rank map of the dropped rows less the starting one."""
        return self.scale * ((dropped @ a.T) @ b.T - (rows @ self.start_a.T) @ self.start_b.T)

    @full_precision
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.to(torch.float32).reshape(-1, x.shape[-1])
        b, a = self._generated.get(list(self.generator.parameters()), self.weights)
        return self.update(rows, self.dropout(rows), b, a).reshape(*x.shape[:-1], self.out_features)

    def delta_weight(self) -> torch.Tensor:
        """The update as a (d_out, d_in) matrix (no dropout)."""
        b, a = self.weights()
        return self.scale * (b @ a - self.start_b @ self.start_a)


def check_layers(config, shapes: Iterable[tuple[int, int]]) -> None:
    """A chunk may not be larger than a layer's generated weights; the smallest layer binds (`Method.layer_check`)."""
    in_features, out_features = min(shapes, key=sum)
    weight_count = config.r * (in_features + out_features)
    if config.chunk_size > weight_count:
        raise InvalidField(
            "chunk_size",
            f"{config.chunk_size} is more than the {weight_count} weights of a rank-{config.r} update of a "
            f"{in_features}->{out_features} layer; choose at most {weight_count}",
        )


class QPALinear(AdapterLinear):
    adapter_layer_names = ("qpa_generator",)

    def make_adapter(self, config) -> nn.Module:
        check_layers(config, [(self.in_features, self.out_features)])
        return GeneratedLoRA(self.in_features, self.out_features, config)
