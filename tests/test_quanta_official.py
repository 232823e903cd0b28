"""quanTA is the official network: the same per_dim_features build the same function as the official layer.

The reference below is written from the official code's published maths (github
quanta-fine-tuning/quanta, quanta/quanta/tuners/quanta.py: `Linear.gen_einsum_expr_train`,
`forward_sum_opposite` and `reset_parameters`): the input is zero-padded to
prod(per_dim_features) and viewed as d axes; for (dim1, dim2) in
combinations(range(-1, -d - 1, -1), 2) the tensor of shape (f[dim2], f[dim1], f[dim2], f[dim1])
(outputs first) is contracted with axes dim2 and dim1; the result is cropped or padded to the
output width.  It moves axes and multiplies, independently of the adapter's einsum strings.
"""

from __future__ import annotations

import itertools
import json
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from peft import get_peft_model

from qllm.adapters.quanta.chain import contraction_groups
from qllm.adapters.quanta.layer import TensorAdapter, official_pairs
from qllm.errors import ArgumentError
from qllm.hparams.finetuning_args import FinetuningArguments
from qllm.model.loader import load_model

TOLERANCE = 1e-5


def official_update(x: torch.Tensor, weights: dict[str, torch.Tensor], features: list[int], out: int) -> torch.Tensor:
    d, total = len(features), math.prod(features)
    state = F.pad(x, (0, total - x.shape[-1])).reshape(-1, *features)
    for dim1, dim2 in itertools.combinations(range(-1, -d - 1, -1), 2):
        first, second = 1 + d + dim2, 1 + d + dim1  # the axes of this pair in `state` (batch axis 0)
        moved = torch.movedim(state, (first, second), (-2, -1))
        moved = torch.einsum("...kl,ijkl->...ij", moved, weights[f"{dim1} {dim2}"])
        state = torch.movedim(moved, (-2, -1), (first, second))
    state = state.reshape(-1, total)
    return state[:, :out] if out <= total else F.pad(state, (0, out - total))


def adapter(features: list[int], in_features: int, out_features: int, init_mode: str = "frozen_copy"):
    config = SimpleNamespace(per_dim_features=features, init_mode=init_mode, dropout=0.0)
    return TensorAdapter(in_features, out_features, config)


@pytest.mark.parametrize(
    ("features", "in_features", "out_features"),
    [
        ([16, 8, 4, 2], 896, 896),
        ([16, 8, 4, 2], 1000, 700),
        ([4, 4], 16, 16),
        ([2, 3, 4], 20, 30),
        ([3, 2, 2, 2, 2], 48, 40),
        ([64, 4, 2], 500, 512),  # pairs wider than a group may be (`GROUP_MAX_SIZE`): each its own product
    ],
)
def test_the_chain_is_the_official_network(features, in_features, out_features):
    torch.manual_seed(0)
    layer = adapter(features, in_features, out_features)
    d = len(features)
    weights = {f"{b - d} {a - d}": tensor.detach() for (a, b), tensor in zip(layer.pairs, layer.tensors)}
    assert list(weights) == [f"{dim1} {dim2}" for dim1, dim2 in itertools.combinations(range(-1, -d - 1, -1), 2)]
    x = torch.randn(5, in_features)
    ours = layer.chain(x, list(layer.tensors))
    reference = official_update(x, weights, features, out_features)
    assert ((ours - reference).abs().max() / reference.abs().max()).item() <= TOLERANCE


def test_the_default_chain_runs_as_three_grouped_products():
    """Pairs on disjoint axes commute: (1, 2) joins (2, 3) and (1, 3) ahead of (0, 3); (0, 2) joins (0, 3)."""
    groups = contraction_groups([16, 8, 4, 2], official_pairs(4))
    expected = [((1, 2, 3), (0, 1, 3)), ((0, 2, 3), (2, 4)), ((0, 1), (5,))]
    assert [(group.axes, group.steps) for group in groups] == expected


def test_pair_order_for_four_axes():
    assert official_pairs(4) == [(2, 3), (1, 3), (0, 3), (1, 2), (0, 2), (0, 1)]


def test_the_start_is_the_official_kaiming_linear_start():
    torch.manual_seed(0)
    layer = adapter([16, 8, 4, 2], 896, 896)
    for (a, b), tensor in zip(layer.pairs, layer.tensors):
        fan_in = layer.features[a] * layer.features[b]
        bound = math.sqrt(3 / fan_in)  # kaiming_uniform_ with nonlinearity="linear": gain 1
        assert tensor.abs().max().item() <= bound
        if tensor.numel() >= 1024:
            assert abs(tensor.std().item() - bound / math.sqrt(3)) <= 0.05 * bound


class Doubling(torch.nn.Module):
    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return 2 * rows


def test_dropout_reaches_the_trained_chain_only():
    torch.manual_seed(0)
    layer = adapter([4, 4, 2], 32, 32)
    layer.dropout = Doubling()  # a deterministic stand-in for dropout: T(2x) - S(x) = T(x) at the start
    x = torch.randn(3, 32)
    assert torch.allclose(layer(x), layer.chain(x, list(layer.tensors)), atol=1e-5)


def test_zero_last_zeroes_the_official_last_pair():
    layer = adapter([16, 8, 4, 2], 896, 896, init_mode="zero_last")
    assert layer.pairs[-1] == (0, 1) and not layer.tensors[-1].any()


def test_an_adapter_of_the_earlier_layout_is_refused(tmp_path):
    from qllm.adapters.attach import load_adapters

    arguments = FinetuningArguments(finetuning_type="quanTA", per_dim_features="8,4,2,2")
    get_peft_model(load_model("qllm-tiny"), arguments.peft_config()).save_pretrained(tmp_path)
    config_file = tmp_path / "adapter_config.json"
    config = json.loads(config_file.read_text())
    assert config["layout_version"] == 2
    del config["layout_version"]
    config_file.write_text(json.dumps(config))
    with pytest.raises(ArgumentError, match="earlier layout") as caught:
        load_adapters(load_model("qllm-tiny"), str(tmp_path), is_trainable=False)
    assert caught.value.field == "adapter_name_or_path"
