"""FastDrag's latent warpage function (LWF) and latent relocation, vectorised.

Coordinates here are **latent pixels, (y, x)** (row, column), as in the official code; handles and
targets are floats (multiples of 0.25 when they come from :func:`~.to_latent.points_to_latent`).

The official code (``utils/continuous_drag.py``) loops over mask pixels in Python. This module
computes the same float32 formulas in the same operation order over all pixels and drags at once
(the reductions were checked to round exactly like the per-pixel ones), so destinations and the
relocation map are bit-identical to the official ones; the reference cases in
``tests/fixtures/fastdrag`` check this.

Relocation is expressed as a *source map*: ``src[y, x]`` is the flat index ``sy * w + sx`` of the
pre-warp latent pixel whose value ends up at (y, x), or ``-1`` for a hole (a masked pixel nothing
was written to). Applying it is one gather, for every channel and batch element at once.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import LATENT_FACTOR, check_editable
from ..errors import DragInputError

AGGREGATIONS = ("inverse_distance", "nearest_handle")
"""How the per-drag warp vectors of a pixel are combined.

``inverse_distance``: the official rule, a weighted mean with weights 1 / (distance to handle + 1e-4).
``nearest_handle``: only the drag whose handle is nearest moves the pixel (ties: the lower pair
number). Not in the paper; it keeps opposing drags from cancelling each other between the handles.
"""

HOLE_FILLS = ("zero", "original", "random")
"""What a hole holds after relocation: the official fill modes '0', 'ori' and 'random'."""

# Seed of the official pipeline (ui_utils.py); the official 'random' fill draws from the global RNG
# after other draws, so its exact values cannot be reproduced and a fixed seed is used instead.
_RANDOM_FILL_SEED = 42


def _coords(pixels: Tensor, like: Tensor) -> Tensor:
    """Integer pixel positions as contiguous floats.

    ``torch.nonzero`` returns a column-major tensor; vector norms over a non-contiguous last dim take
    a slower kernel that also rounds differently from the official ``torch.norm`` of a 2-vector.
    """
    return pixels.to(like.dtype).contiguous()


def mask_circle(mask: Tensor) -> tuple[Tensor, Tensor]:
    """The circle through the corners of the bounding box of ``mask`` (official ``get_circle``).

    ``mask``: [h, w] bool, latent resolution, not empty. Returns the centre (y, x) as float32 [2] and
    the radius as a float32 scalar; like the official code, the radius carries PairwiseDistance's
    1e-6 epsilon (added to the coordinate difference).
    """
    ys, xs = torch.nonzero(mask, as_tuple=True)
    low = torch.stack([ys.min(), xs.min()]).float()
    high = torch.stack([ys.max(), xs.max()]).float()
    center = (low + high) / 2
    radius = torch.linalg.vector_norm(center - low + 1e-6)
    return center, radius


def stretch_factors(pixels: Tensor, handles: Tensor, center: Tensor, radius: Tensor) -> Tensor:
    """The component stretch factor s_i(C) of every pixel C for every handle A_i (official ``get_scale_factor``).

    s = 1 at the handle and falls linearly to 0 along the ray from the handle to where it leaves the
    circle. ``pixels``: [N, 2] int64 (y, x); ``handles``: [K, 2] float32 (y, x); returns [K, N]
    float32. NaN where a pixel coincides with a handle or the handle lies outside the circle (as in
    the official code).
    """
    ac = _coords(pixels, handles)[None] - handles[:, None]  # [K, N, 2]
    d_ac = torch.linalg.vector_norm(ac, dim=-1)
    e_ac = ac / d_ac[..., None]
    oa = handles - center  # [K, 2]
    d_oa = torch.linalg.vector_norm(oa, dim=-1)
    l0 = (ac * oa[:, None]).sum(-1) / d_ac
    l1 = torch.sqrt(radius**2 - d_oa[:, None] ** 2 + l0**2)
    ap = (l1 - l0)[..., None] * e_ac
    pc = ac - ap
    return torch.linalg.vector_norm(pc, dim=-1) / torch.linalg.vector_norm(ap, dim=-1)


def warp_vectors(
    pixels: Tensor, handles: Tensor, targets: Tensor, center: Tensor, radius: Tensor, aggregation: str = "inverse_distance"
) -> Tensor:
    """The aggregated warp vector v(C) (dy, dx) of every pixel, [N, 2] float32; see :data:`AGGREGATIONS`."""
    if aggregation not in AGGREGATIONS:
        raise DragInputError(f"aggregation: {aggregation!r} is not one of {', '.join(AGGREGATIONS)}.")
    scale = stretch_factors(pixels, handles, center, radius).T  # [N, K]
    drag = targets - handles  # [K, 2]
    distance = torch.linalg.vector_norm(_coords(pixels, handles)[:, None] - handles[None], dim=-1)  # [N, K]
    if aggregation == "nearest_handle":
        nearest = distance.argmin(dim=1, keepdim=True)
        return scale.gather(1, nearest) * drag[nearest[:, 0]]
    weight = 1 / (distance + 0.0001)
    ratio = weight / weight.sum(dim=1, keepdim=True)
    return (ratio[..., None] * (scale[..., None] * drag)).sum(dim=1)


def destinations(pixels: Tensor, vectors: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
    """Where each pixel's value goes: round-half-to-even of C + v, clamped to the latent.

    Returns ([N, 2] int64 (y, x), [N] bool valid). A pixel whose warp is not finite is invalid: the
    official code skips it (its ``int(nan)`` raises inside a ``try``), so it is cleared and not moved.
    """
    dest = torch.round(pixels.to(vectors.dtype) + vectors)
    valid = torch.isfinite(dest).all(dim=1)
    dest = torch.where(valid[:, None], dest, torch.zeros_like(dest))
    limit = torch.tensor([height - 1, width - 1], dtype=dest.dtype, device=dest.device)
    dest = torch.minimum(dest.clamp(min=0), limit)
    return dest.long(), valid


def check_handles_in_circle(handles: Tensor, center: Tensor, radius: Tensor, masked: bool = True) -> None:
    """Raise a clear error for a handle outside the region's circle, where the official warp yields NaN.

    ``masked``: whether the region comes from a connected mask (else it is the whole latent grid, whose
    circle leaves out the image's corners, and the advice is to move the handle inwards).
    """
    distance = torch.linalg.vector_norm(handles - center, dim=-1)
    outside = distance > radius
    if not bool(outside.any()):
        return
    pair = int(outside.nonzero()[0, 0]) + 1
    y, x = (handles[pair - 1] * LATENT_FACTOR).tolist()
    cy, cx = (center * LATENT_FACTOR).tolist()
    r = float(radius) * LATENT_FACTOR
    where = (
        f"the handle of pair {pair} (about x={x:.0f}, y={y:.0f} in image pixels) lies outside the circle around "
        f"the {'mask' if masked else 'image'}'s bounding box (centre x={cx:.0f}, y={cy:.0f}, radius {r:.0f} px), "
        "where FastDrag's warp is undefined."
    )
    if masked:
        raise DragInputError(f"mask: {where} Extend the mask so that it covers every handle.")
    if r < LATENT_FACTOR:
        raise DragInputError(
            f"points: {where} The image is too small for FastDrag: it has fewer than 2 latent pixels (8×8 image pixels "
            "each) across. Use an image at least 16 px on each side (SD models work best near their training size)."
        )
    raise DragInputError(
        f"points: {where} No mask is connected, so the region is the whole image, and that circle (through the corners "
        f"of the outermost latent pixels' centres) leaves out the image's corners. Move the handle to within {r:.0f} px "
        f"of the centre (it is {float(distance[pair - 1]) * LATENT_FACTOR:.0f} px away), e.g. a few pixels in from the corner."
    )


def relocation_map(mask: Tensor, handles: Tensor, targets: Tensor, aggregation: str = "inverse_distance") -> Tensor:
    """The source map of the official continuous-drag relocation, [h, w] int64 (see module docstring).

    ``mask``: [h, w] bool, latent resolution (masked = may move; official ``mask_cp_handle > 0``).
    ``handles``, ``targets``: [K, 2] float32 latent (y, x). Each masked pixel goes to its destination
    (:func:`destinations`), then :func:`source_map` applies them. Destinations may lie outside the mask
    and overwrite unmasked pixels, as in the official code.
    """
    check_editable(mask[None], "mask")
    handles = handles.to(device=mask.device, dtype=torch.float32)
    targets = targets.to(device=mask.device, dtype=torch.float32)
    center, radius = mask_circle(mask)
    check_handles_in_circle(handles, center, radius)
    pixels = torch.nonzero(mask)  # raster order = the official visiting order
    vectors = warp_vectors(pixels, handles, targets, center, radius, aggregation)
    return source_map(mask, pixels, *destinations(pixels, vectors, *mask.shape))


def source_map(mask: Tensor, pixels: Tensor, dest: Tensor, valid: Tensor) -> Tensor:
    """Apply destinations: masked pixels are cleared, then visited in raster order, each one's pre-warp
    value written to its destination unless an earlier pixel already wrote there (first writer wins).

    ``mask``: [h, w] bool; ``pixels``: [N, 2] int64 (y, x), its masked pixels in raster order;
    ``dest``, ``valid``: from :func:`destinations`. Returns the [h, w] int64 source map.
    """
    h, w = mask.shape
    source = pixels[:, 0] * w + pixels[:, 1]  # increasing: raster order
    dest_flat = dest[:, 0] * w + dest[:, 1]
    none = h * w
    winner = torch.full((none,), none, dtype=torch.long, device=mask.device)
    winner.scatter_reduce_(0, dest_flat[valid], source[valid], reduce="amin")

    src = torch.arange(none, device=mask.device)
    src[source] = -1
    written = winner < none
    src[written] = winner[written]
    return src.view(h, w)


def apply_relocation(latent: Tensor, src: Tensor, hole_fill: str = "zero") -> tuple[Tensor, Tensor]:
    """Move latent values along a source map.

    ``latent``: [B, C, h, w] any float dtype; ``src``: [h, w] or [B, h, w] int64 from
    :func:`relocation_map`. Returns the warped latent (same dtype) and the holes, [B or 1, h, w] bool.
    Holes hold zero, their original value, or U[0, 1) noise (``hole_fill``, see :data:`HOLE_FILLS`).
    """
    if hole_fill not in HOLE_FILLS:
        raise DragInputError(f"hole_fill: {hole_fill!r} is not one of {', '.join(HOLE_FILLS)}.")
    b, c, h, w = latent.shape
    src = src.to(latent.device).reshape(-1, 1, h * w)
    holes = src < 0
    flat = latent.reshape(b, c, h * w)
    warped = flat.gather(2, src.clamp(min=0).expand(b, c, -1))
    if hole_fill == "zero":
        warped = warped.masked_fill(holes, 0)
    elif hole_fill == "original":
        warped = torch.where(holes, flat, warped)
    else:
        generator = torch.Generator().manual_seed(_RANDOM_FILL_SEED)
        noise = torch.rand(flat.shape, generator=generator).to(latent)
        warped = torch.where(holes, noise, warped)
    return warped.view(b, c, h, w), holes.view(-1, h, w)


def fastdrag_warp(
    latent: Tensor,
    mask: Tensor,
    handles: Tensor,
    targets: Tensor,
    aggregation: str = "inverse_distance",
    hole_fill: str = "zero",
) -> tuple[Tensor, Tensor]:
    """Warp a latent by the drags: LWF + relocation, with the holes that relocation leaves.

    ``latent``: [B, C, h, w]; ``mask``: [h, w] or [B, h, w] bool at latent resolution (one mask for
    the whole batch, or one per element); ``handles``, ``targets``: [K, 2] latent (y, x). Returns the
    warped latent and the holes, [1 or B, h, w] bool, True where no value was written.
    """
    masks = mask.reshape(-1, *mask.shape[-2:])
    maps = torch.stack([relocation_map(m, handles, targets, aggregation) for m in masks])
    return apply_relocation(latent, maps, hole_fill)
