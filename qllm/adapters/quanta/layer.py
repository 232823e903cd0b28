from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from qllm.adapters.frozen_cache import FrozenCache, is_frozen
from qllm.adapters.layer import AdapterLinear, is_sharded
from qllm.adapters.precision import full_precision
from qllm.adapters.quanta.chain import apply_chain, contraction_groups
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
        self.groups = contraction_groups(self.features, self.pairs)
        self._dense = FrozenCache()  # delta_weight() of a frozen adapter (chat, evaluation); never saved
        self._folded_base = FrozenCache()  # W - dense(S) of a float32 base while training (`folded_base_weight`)
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()

    def chain(self, rows: torch.Tensor, tensors: list[torch.Tensor]) -> torch.Tensor:
        """Rows (N, d_in) -> (N, d_out): the pair tensors applied in the official order (`chain.apply_chain`:
        pad to prod(features), a few grouped products, crop or pad)."""
        return apply_chain(rows, tensors, self.features, self.groups, self.out_features)

    def update(self, rows: torch.Tensor, dropped: torch.Tensor | None = None) -> torch.Tensor:
        """T(dropped) - S(rows): the trained chain sees the input after dropout, the frozen copy before it."""
        trained = self.chain(rows if dropped is None else dropped, list(self.tensors))
        if self.init_mode == "zero_last":
            return trained
        return trained - self.chain(rows, self.frozen_tensors())

    def frozen_tensors(self) -> list[torch.Tensor]:
        return [getattr(self, f"frozen_{index}") for index in range(len(self.tensors))]

    def uses_dense_update(self) -> bool:
        """Loaded for inference (and not dropping out): the update is linear, so one dense matrix built once
        serves every token."""
        return is_frozen(self.tensors) and not (self.training and isinstance(self.dropout, nn.Dropout))

    def can_fold_frozen_copy(self) -> bool:
        """Whether a training forward may take S out of the chain and into the base weight (`folded_base_weight`)."""
        return self.init_mode == "frozen_copy" and not self.uses_dense_update()

    @full_precision
    def forward(self, x: torch.Tensor, frozen_copy_folded: bool = False) -> torch.Tensor:
        """The update; ``frozen_copy_folded``: the caller's base weight already has S subtracted (its
        `folded_base_weight`), so only the trained chain runs."""
        rows = x.to(torch.float32).reshape(-1, x.shape[-1])
        if self.uses_dense_update():
            update = rows @ self._dense.get(list(self.tensors), self.delta_weight).T
        elif frozen_copy_folded:
            update = self.chain(self.dropout(rows), list(self.tensors))
        else:
            update = self.update(rows, self.dropout(rows))
        return update.reshape(*x.shape[:-1], self.out_features)

    def folded_base_weight(self, weight: torch.Tensor) -> torch.Tensor:
        """W - dense(S), for a float32 base ``weight``: S's chain folded into the base once, as the official code
        does, so that a training forward evaluates one tensor chain instead of two.

        The official code subtracts S from the base weight in place; here the folded copy is
        kept beside the base (kept while W and S are unchanged, like every frozen build), so
        that disabling, unloading, merging, deleting or switching adapters find the base
        weight untouched.  The price is one float32 copy of each adapted weight.
        """
        return self._folded_base.get([weight, *self.frozen_tensors()], lambda: self._fold(weight))

    @torch.no_grad()
    def _fold(self, weight: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(self.in_features, dtype=torch.float32, device=weight.device)
        return weight - self.chain(eye, self.frozen_tensors()).T

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
    """A Linear with quanTA adapters.  While one trains on a float32 base, its frozen copy S is folded into
    the base weight (`TensorAdapter.folded_base_weight`): y = (W - dense(S)) x + T(x), which equals
    W x + T(x) - S(x) up to float32 rounding and costs one tensor chain per token instead of two.

    Half-precision bases keep the two chains: W - dense(S) rounded to float16/bfloat16 would
    move the model's start away from the base model's (README, "quanTA's frozen copy").
    Quantized and sharded (FSDP, ZeRO-3) bases keep them too: their weights are not a plain
    tensor to subtract from.  With several active adapters the first that can folds its S.
    """

    adapter_layer_names = ("quanta_tensors",)
    base_is_sharded = False  # set by `QuanTAModel.forward`, which sees a sharded weight before FSDP gathers it

    def folding_adapter(self) -> str | None:
        """The active adapter whose S the next forward folds into the base weight, if any."""
        weight = self.base_layer.weight
        if self.disable_adapters or self.merged or weight.dtype != torch.float32:
            return None
        if self.base_is_sharded or is_sharded(weight):
            return None
        if hasattr(self.base_layer, "_hf_hook"):  # accelerate may keep the weight elsewhere (offload)
            return None
        for name in self.active_adapters:
            if name in self.adapters and self.adapters[name].can_fold_frozen_copy():
                return name
        return None

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        folding = self.folding_adapter()
        if folding is None:
            return super().forward(x, *args, **kwargs)
        weight = self.adapters[folding].folded_base_weight(self.base_layer.weight)
        result = F.linear(x, weight, self.base_layer.bias)
        for name in self.active_adapters:
            if name in self.adapters:
                update = self.adapters[name](x, frozen_copy_folded=name == folding)
                result = result + update.to(result.dtype)
        return result

    def make_adapter(self, config) -> nn.Module:
        check_layers(config, [(self.in_features, self.out_features)])
        return TensorAdapter(self.in_features, self.out_features, config)
