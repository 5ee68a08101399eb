"""FastDrag's latent warp and hole filling, with points and masks given in image space.

These are what the FastDragWarp and BNNI nodes run: ComfyUI-shaped inputs (LATENT samples
[B, C, h, w]; MASK [B, H, W] at image resolution, 1 = editable or hole), every check with a clear
error, then the exact official operations of :mod:`.warp` and :mod:`.bnni`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import LATENT_FACTOR, as_mask_batch, check_editable, check_latent_fits, check_mask_fits
from ..latent_masks import fastdrag_editable, image_mask_to_latent, latent_mask_to_image
from ..points import DragPoints
from .bnni import bnni
from .to_latent import mask_to_latent, points_to_latent
from .warp import check_handles_in_circle, fastdrag_warp, mask_circle


def edit_region(mask: Tensor | None, points: DragPoints, batch: int = 1, device: torch.device | None = None) -> Tensor:
    """The latent region FastDragWarp may move, [1 or ``batch``, H/8, W/8] bool on ``device``, from an image-size
    MASK or None (= everything), after every check the warp makes of its points and mask: the mask fits the
    image and is not empty at latent resolution, and each handle lies inside the circle around the region,
    where the official warp is defined (NaN outside). It needs no latent, so the points editor runs it too
    when its points feed a FastDragWarp, refusing a bad drag before the encode and inversion."""
    h, w = points.height // LATENT_FACTOR, points.width // LATENT_FACTOR
    if mask is None:
        region = torch.ones((1, h, w), dtype=torch.bool)
    else:
        mask = as_mask_batch(mask)
        check_mask_fits(mask, points, batch)
        region = mask_to_latent(mask.float())
        check_editable(fastdrag_editable(mask), "mask", region)
    handles, _ = points_to_latent(points)
    for element in region:
        check_handles_in_circle(handles, *mask_circle(element), masked=mask is not None)
    return region.to(device)


def warp_latent(
    samples: Tensor,
    points: DragPoints,
    mask: Tensor | None = None,
    aggregation: str = "inverse_distance",
    hole_fill: str = "zero",
) -> tuple[Tensor, Tensor]:
    """FastDrag's LWF + relocation of ``samples`` ([B, C, h, w]) by ``points``, restricted to ``mask``.

    Returns the warped samples and the holes as a MASK [1 or B, 8h, 8w] (1 = no value was written).
    """
    check_latent_fits(samples, points)
    handles, targets = points_to_latent(points)
    region = edit_region(mask, points, samples.shape[0], samples.device)
    warped, holes = fastdrag_warp(samples, region, handles, targets, aggregation, hole_fill)
    return warped, latent_mask_to_image(holes.cpu())


def fill_holes(samples: Tensor, holes: Tensor) -> Tensor:
    """BNNI-fill ``samples`` ([B, C, h, w]) where the MASK ``holes`` is set (latent or image size, see
    :func:`~drag.latent_masks.image_mask_to_latent`)."""
    holes = as_mask_batch(holes, "holes")
    return bnni(samples, image_mask_to_latent(holes, *samples.shape[-2:]))
