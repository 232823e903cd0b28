"""quanTA's tensor chain, evaluated as a few dense products instead of one per pair tensor.

The official code applies the q_d (q_d - 1) / 2 pair tensors one einsum at a time: each reads
and writes the whole state (tokens x prod(features)) and permutes it so that its two axes come
last, so a layer's chain is six passes over the state, forward, and twice that backward, with
their copies (for [16, 8, 4, 2] at 1024 tokens, permute copies took as long as the products).
Pair tensors on disjoint axes commute, so the same network can be regrouped: a pair joins the
latest group it can reach past pairs it commutes with, while the group's axes span at most
`GROUP_MAX_SIZE` features.  Each group's pair tensors make one small dense (P, P) matrix (the
group applied to its own identity), and the state is multiplied by it once.  For the default
[16, 8, 4, 2]: three products of widths 64, 128 and 128 instead of six of widths 8 to 128, and
two permute copies.  The same linear map, rounding aside: tested against the official
network and a sum over indices (`tests/test_quanta_official.py`, `tests/test_adapters.py`).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Widest group: its matrix costs P^2 and each token P products per feature group; at 128 the regrouped chain
# does ~15 % more arithmetic than the pairs one by one, in half the passes over the state.
GROUP_MAX_SIZE = 128


@dataclass(frozen=True)
class ContractionGroup:
    """Pair tensors applied as one dense matrix on ``axes`` (feature axes, increasing)."""

    axes: tuple[int, ...]
    steps: tuple[int, ...]  # indices into the pairs' (official) order, in the order they apply
    equations: tuple[str, ...]  # for each step, its einsum on a batch of group states


def pair_equation(axes: int, a: int, b: int) -> str:
    """The einsum applying a pair tensor (out_a, out_b, in_a, in_b) to axes a < b of a batch of states."""
    letters = string.ascii_lowercase[:axes]
    out_a, out_b = letters[a].upper(), letters[b].upper()
    result = letters.replace(letters[a], out_a).replace(letters[b], out_b)
    return f"z{letters},{out_a}{out_b}{letters[a]}{letters[b]}->z{result}"


def contraction_groups(
    features: list[int], pairs: list[tuple[int, int]], max_size: int = GROUP_MAX_SIZE
) -> list[ContractionGroup]:
    """The chain's pairs gathered into groups (see the module docstring); a pair wider than ``max_size``
    is a group of its own."""

    def span(axes: set[int]) -> int:
        return math.prod(features[axis] for axis in axes)

    groups: list[tuple[set[int], list[int]]] = []
    for step, pair in enumerate(pairs):
        for axes, steps in reversed(groups):
            if span(axes | set(pair)) <= max_size:
                axes.update(pair)
                steps.append(step)
                break
            if any(set(pairs[other]) & set(pair) for other in steps):
                groups.append((set(pair), [step]))  # it cannot move past this group
                break
        else:
            groups.append((set(pair), [step]))
    result = []
    for axes, steps in groups:
        ordered = sorted(axes)
        equations = [pair_equation(len(ordered), ordered.index(pairs[s][0]), ordered.index(pairs[s][1])) for s in steps]
        result.append(ContractionGroup(tuple(ordered), tuple(steps), tuple(equations)))
    return result


def group_matrix(group: ContractionGroup, features: list[int], tensors: list[torch.Tensor]) -> torch.Tensor:
    """(P, P) with ``rows @ it`` = the group's pair tensors applied in turn to each row (a state on its axes)."""
    sizes = [features[axis] for axis in group.axes]
    width = math.prod(sizes)
    if len(group.steps) == 1:  # one pair tensor (out, in) on its own two axes: its matrix, transposed
        return tensors[group.steps[0]].reshape(width, width).T
    state = torch.eye(width, dtype=tensors[0].dtype, device=tensors[0].device).reshape(width, *sizes)
    for step, equation in zip(group.steps, group.equations):
        state = torch.einsum(equation, state, tensors[step])
    return state.reshape(width, width)  # row j: the image of basis state j


def apply_chain(
    rows: torch.Tensor,
    tensors: list[torch.Tensor],
    features: list[int],
    groups: list[ContractionGroup],
    out_features: int,
) -> torch.Tensor:
    """Rows (N, d_in) -> (N, d_out): pad to prod(features), apply each group's matrix, crop or pad."""
    total, tokens = math.prod(features), rows.shape[0]
    state = F.pad(rows, (0, total - rows.shape[-1])).reshape(tokens, *features)
    layout = list(range(len(features)))  # the feature axis at each position of the state after the tokens
    for group in groups:
        order = [axis for axis in layout if axis not in group.axes] + list(group.axes)  # the group's axes last
        if order != layout:
            state = state.permute(0, *(1 + layout.index(axis) for axis in order))
            layout = order
        matrix = group_matrix(group, features, tensors)
        state = (state.reshape(-1, matrix.shape[0]) @ matrix).reshape(tokens, *(features[axis] for axis in layout))
    state = state.permute(0, *(1 + layout.index(axis) for axis in range(len(features)))).reshape(tokens, total)
    if out_features <= total:
        return state[:, :out_features]
    return F.pad(state, (0, out_features - total))
