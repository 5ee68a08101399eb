"""Bilateral nearest-neighbour interpolation (BNNI) of holes, exactly as the official FastDrag code.

The official ``interpolation`` visits the holes in raster order and fills each one *in place* with
the mean of the nearest non-hole value to its left, right, up and down, weighted by 1/distance.
Because fills are written back immediately, a hole's left and up neighbours are usually holes
filled a moment earlier, while its right and down neighbours are always original values. A
simultaneous fill is therefore not faithful.

This module reproduces the sequential rule without visiting pixels one by one:

* Right and down neighbours are the nearest original non-holes, found for all holes at once.
* Left and up neighbours precede the hole in raster order, so they are already final when it is
  visited: the nearest pixel to the left / above that is not an unfillable hole.
* So a hole depends on at most two other holes (its left and up neighbours), both earlier in raster
  order. Holes are grouped by the length of their longest such chain; the holes of one group are
  independent, and the fill runs one vectorised step per group (at most the number of
  anti-diagonals the holes span; usually far fewer), never one per pixel.

Each value is accumulated in the official order (left, right, up, down, weights 1/k rounded like a
Python float multiplying a tensor, divided by the double sum of weights), so float32 results are
bit-identical to the official code. Holes are given by an explicit mask, not by "channel 0 == 0".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import DragInputError


@dataclass
class _FillPlan:
    """How to fill one hole map. Flat indices point into a latent with one extra zero column appended
    (index h*w), which stands in for a missing neighbour. Holes are grouped into *levels*: a hole's
    left and up neighbours, if they are holes themselves, are on earlier levels, so every level is
    filled in one vectorised step."""

    pixels: Tensor  # [n] flat indices of the holes to fill, sorted by level
    left_up: Tensor  # [n, 2] flat indices of each hole's left and up neighbours
    right_down: Tensor  # [n, 2] the same for right and down
    weights: Tensor  # [n, 4] float64: 1/distance to the left, right, up, down neighbour; 0 if none
    sizes: list[int]  # number of holes on each level


def _exclusive_cummax(values: Tensor, dim: int, fill: int) -> Tensor:
    """For each position, the running maximum over the positions strictly before it along ``dim``."""
    running = values.cummax(dim).values
    first = torch.full_like(running.narrow(dim, 0, 1), fill)
    return torch.cat([first, running.narrow(dim, 0, running.shape[dim] - 1)], dim)


def _exclusive_reverse_cummin(values: Tensor, dim: int, fill: int) -> Tensor:
    """For each position, the running minimum over the positions strictly after it along ``dim``."""
    running = values.flip(dim).cummin(dim).values.flip(dim)
    last = torch.full_like(running.narrow(dim, 0, 1), fill)
    return torch.cat([running.narrow(dim, 1, running.shape[dim] - 1), last], dim)


def _levels(left: Tensor, up: Tensor) -> Tensor:
    """Longest chain of dependencies ending at each hole; ``left`` and ``up`` [n] hold the positions of
    a hole's left and up holes, or n for none. Each pass extends every chain by one link."""
    n = left.shape[0]
    level = torch.zeros(n + 1, dtype=torch.long, device=left.device)
    level[n] = -1  # "no dependency" contributes level -1 + 1 = 0
    current = level[:n]
    while True:
        grown = torch.maximum(level.index_select(0, left), level.index_select(0, up)) + 1
        if torch.equal(grown, current):
            return grown
        current.copy_(grown)


def _plan(holes: Tensor) -> _FillPlan:
    """Work out, for one [h, w] bool hole map, which holes get filled, from where, and in what order."""
    h, w = holes.shape
    device = holes.device
    kept = ~holes
    rows = torch.arange(h, device=device)[:, None].expand(h, w)
    cols = torch.arange(w, device=device)[None, :].expand(h, w)
    far = h + w  # beyond the grid: no neighbour

    # Right and down: nearest original non-hole (holes further on are still empty when visited).
    right = _exclusive_reverse_cummin(torch.where(kept, cols, far), 1, far)
    down = _exclusive_reverse_cummin(torch.where(kept, rows, far), 0, far)

    # A hole is filled iff it has any neighbour; left/up neighbours may be earlier filled holes,
    # so propagate along rows and columns until nothing changes (rarely more than one pass).
    filled = kept | (right < far) | (down < far)
    while True:
        seen = filled.to(torch.uint8)
        grown = filled | _exclusive_cummax(seen, 1, 0).bool() | _exclusive_cummax(seen, 0, 0).bool()
        if torch.equal(grown, filled):
            break
        filled = grown

    left = _exclusive_cummax(torch.where(filled, cols, -1), 1, -1)
    up = _exclusive_cummax(torch.where(filled, rows, -1), 0, -1)

    pixels = torch.nonzero((holes & filled).flatten())[:, 0]  # raster order
    ys, xs = pixels // w, pixels % w
    left, right, up, down = torch.stack([left, right, up, down]).flatten(1)[:, pixels]
    has = torch.stack([left >= 0, right < far, up >= 0, down < far], dim=1)
    neighbours = torch.stack([ys * w + left, ys * w + right, up * w + xs, down * w + xs], dim=1)
    neighbours = torch.where(has, neighbours, h * w)
    distance = torch.stack([xs - left, right - xs, ys - up, down - ys], dim=1)
    weights = torch.where(has, 1.0 / distance.double(), 0.0)

    n = pixels.shape[0]
    position = torch.full((h * w + 1,), n, dtype=torch.long, device=device)
    position[pixels] = torch.arange(n, device=device)
    depends = position[neighbours[:, [0, 2]]]
    level = _levels(depends[:, 0], depends[:, 1])
    order = torch.argsort(level, stable=True)
    sizes = torch.bincount(level).tolist() if n else []
    return _FillPlan(
        pixels=pixels[order],
        left_up=neighbours[order][:, [0, 2]].contiguous(),
        right_down=neighbours[order][:, [1, 3]].contiguous(),
        weights=weights[order],
        sizes=sizes,
    )


def _fill(flat: Tensor, plan: _FillPlan) -> None:
    """Fill ``flat`` ([N, h*w + 1], last column zero) in place along ``plan``."""
    dtype = flat.dtype
    # A tensor times a Python float uses the float cast to the compute type (float32 for float32 and
    # half latents), and each op rounds to the tensor's dtype; doing the same keeps every rounding
    # step identical to the official code.
    wtype = torch.float64 if dtype == torch.float64 else torch.float32
    cast = (lambda t: t) if dtype == wtype else (lambda t: t.to(dtype))  # noqa: E731
    n = flat.shape[0]
    weights = plan.weights.to(wtype)
    w_left_up = weights[:, [0, 2]].contiguous()
    total = plan.weights.sum(1).to(wtype)  # summed left→right in double, as Python's sum() does
    # Right and down neighbours are original values that never change: their terms are fixed.
    right_down = cast(flat.index_select(1, plan.right_down.view(-1)).view(n, -1, 2) * weights[:, [1, 3]])
    term_right, term_down = right_down.unbind(2)

    steps = zip(
        plan.pixels.split(plan.sizes),
        plan.left_up.split(plan.sizes),
        w_left_up.split(plan.sizes),
        term_right.split(plan.sizes, dim=1),
        term_down.split(plan.sizes, dim=1),
        total.split(plan.sizes),
    )
    for pixels, left_up, w_lu, t_right, t_down, w_total in steps:
        t_left, t_up = cast(flat.index_select(1, left_up.view(-1)).view(n, -1, 2) * w_lu).unbind(2)
        acc = t_left + t_right
        acc = acc + t_up
        acc = acc + t_down
        flat.index_copy_(1, pixels, cast(acc / w_total))


def bnni(latent: Tensor, holes: Tensor) -> Tensor:
    """Fill the holes of a latent with FastDrag's BNNI; returns a new tensor.

    ``latent``: [B, C, h, w], any float dtype. ``holes``: [h, w] or [B, h, w] bool at latent
    resolution, True where a value is missing (one map for the whole batch, or one per element).
    A hole with no non-hole in any of the four directions keeps its value, as in the official code.
    """
    b, c, h, w = latent.shape
    holes = holes.to(latent.device).reshape(-1, h, w)
    if holes.shape[0] not in (1, b):
        raise DragInputError(f"holes: {holes.shape[0]} hole maps for a batch of {b} latents; give one map or one per latent.")
    if bool(holes.reshape(holes.shape[0], -1).all(dim=1).any()):
        raise DragInputError(
            "holes: the holes mask covers the whole latent, so there is nothing to interpolate from. "
            "Connect the holes MASK from FastDragWarp, or a mask of only the pixels to fill."
        )
    out = latent.new_zeros(b, c, h * w + 1)
    out[..., :-1] = latent.reshape(b, c, h * w)
    if holes.shape[0] == 1:
        _fill(out.view(b * c, -1), _plan(holes[0]))
    else:
        for element, hole_map in zip(out, holes):
            _fill(element, _plan(hole_map))
    return out[..., :-1].reshape(b, c, h, w)
