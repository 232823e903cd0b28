from __future__ import annotations

import itertools
import math
import string
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from qllm.adapters.frozen_cache import FrozenCache, is_frozen
from qllm.adapters.layer import AdapterLinear
from qllm.adapters.precision import full_precision
from qllm.errors import InvalidField


def official_pairs(axes: int) -> list[tuple[int, int]]:
    """The axis pairs in the official code's order: `combinations(range(-1, -d - 1, -1), 2)`, as (a, b) with a < b.

    For four axes: (2, 3), (1, 3), (0, 3), (1, 2), (0, 2), (0, 1).
    """
    return [(axes + second, axes + first) for first, second in itertools.combinations(range(-1, -axes - 1, -1), 2)]


class TensorAdapter(nn.Module):
    """One quanTA adapter of one layer: q_d(q_d-1)/2 pair tensors applied in sequence, as the official code does.

    A tensor for axes (a, b) has shape (f_a, f_b, f_a, f_b): output indices first, like the
    matrix of a two-qudit gate; the pairs come in the official order (`official_pairs`) and
    start as the official code starts them (Kaiming-uniform with a=√5 and nonlinearity
    "linear" on each tensor viewed as a matrix).  The update starts at exactly zero, either
    as the paper does (`frozen_copy`: T(dropout(x)) - S(x), S a frozen copy of the starting
    tensors, which the official code merges into the base weight so dropout never reaches
    it) or with the last tensor zero (`zero_last`: this project's own option; the official
    code names such a start but does not implement it; no S to evaluate, so cheaper).  The
    update is linear in x, so it has a dense `delta_weight()` that merges into the base weight.
    """

    def __init__(self, in_features: int, out_features: int, config) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.features = list(config.per_dim_features)
        self.pairs = official_pairs(len(self.features))
        self.tensors = nn.ParameterList()
        for a, b in self.pairs:
            size = self.features[a] * self.features[b]
            tensor = torch.empty(size, size, dtype=torch.float32)
            nn.init.kaiming_uniform_(tensor, a=math.sqrt(5), nonlinearity="linear")
            self.tensors.append(nn.Parameter(tensor.reshape((self.features[a], self.features[b]) * 2)))
        self.init_mode = config.init_mode
        if self.init_mode == "zero_last":
            nn.init.zeros_(self.tensors[-1])
        else:  # S: the frozen starting copy, saved with the adapter
            for index, tensor in enumerate(self.tensors):
                self.register_buffer(f"frozen_{index}", tensor.detach().clone())
        self.equations = [self._equation(a, b) for a, b in self.pairs]
        self._dense = FrozenCache()  # delta_weight() of a frozen adapter (chat, evaluation); never saved
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()

    def _equation(self, a: int, b: int) -> str:
        axes = string.ascii_lowercase[: len(self.features)]
        out_a, out_b = axes[a].upper(), axes[b].upper()
        result = axes.replace(axes[a], out_a).replace(axes[b], out_b)
        return f"z{axes},{out_a}{out_b}{axes[a]}{axes[b]}->z{result}"

    def chain(self, rows: torch.Tensor, tensors: list[torch.Tensor]) -> torch.Tensor:
        """Rows (N, d_in) -> (N, d_out): pad to prod(features), contract each pair in turn, crop or pad."""
        total = math.prod(self.features)
        state = F.pad(rows, (0, total - rows.shape[-1])).reshape(-1, *self.features)
        for equation, tensor in zip(self.equations, tensors):
            state = torch.einsum(equation, state, tensor)
        state = state.reshape(-1, total)
        if self.out_features <= total:
            return state[:, : self.out_features]
        return F.pad(state, (0, self.out_features - total))

    def update(self, rows: torch.Tensor, dropped: torch.Tensor | None = None) -> torch.Tensor:
        """T(dropped) - S(rows): the trained chain sees the input after dropout, the frozen copy before it."""
        trained = self.chain(rows if dropped is None else dropped, list(self.tensors))
        if self.init_mode == "zero_last":
            return trained
        frozen = [getattr(self, f"frozen_{index}") for index in range(len(self.tensors))]
        return trained - self.chain(rows, frozen)

    @full_precision
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.to(torch.float32).reshape(-1, x.shape[-1])
        tensors = list(self.tensors)
        if is_frozen(tensors) and not (self.training and isinstance(self.dropout, nn.Dropout)):
            # loaded for inference: the update is linear, so one dense matrix built once serves every token
            update = rows @ self._dense.get(tensors, self.delta_weight).T
        else:
            update = self.update(rows, self.dropout(rows))
        return update.reshape(*x.shape[:-1], self.out_features)

    def delta_weight(self) -> torch.Tensor:
        """The update as a (d_out, d_in) matrix: the chain applied to the identity (no dropout)."""
        eye = torch.eye(self.in_features, dtype=torch.float32, device=self.tensors[0].device)
        return self.update(eye).T


def check_layers(config, shapes: Iterable[tuple[int, int]]) -> None:
    """The axes must cover a layer's input; the widest input binds (`Method.layer_check`)."""
    in_features = max(in_features for in_features, _ in shapes)
    if config.total_features < in_features:
        raise InvalidField(
            "per_dim_features",
            f"{config.per_dim_features} covers {config.total_features} features but the target layers take "
            f"up to {in_features} inputs; choose sizes whose product is at least {in_features}",
        )


class QuanTALinear(AdapterLinear):
    adapter_layer_names = ("quanta_tensors",)

    def make_adapter(self, config) -> nn.Module:
        check_layers(config, [(self.in_features, self.out_features)])
        return TensorAdapter(self.in_features, self.out_features, config)
