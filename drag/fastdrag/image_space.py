"""FastDrag's latent warp and hole filling, with points and masks given in image space.

These are what the FastDragWarp and BNNI nodes run: ComfyUI-shaped inputs (LATENT samples
[B, C, h, w]; MASK [B, H, W] at image resolution, 1 = editable or hole), every check with a clear
error, then the exact official operations of :mod:`.warp` and :mod:`.bnni`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import as_mask_batch, check_editable, check_latent_fits, check_mask_fits
from ..latent_masks import image_mask_to_latent, latent_mask_to_image
from ..points import DragPoints
from .bnni import bnni
from .to_latent import mask_to_latent, points_to_latent
from .warp import check_handles_in_circle, fastdrag_warp, mask_circle


def edit_region(mask: Tensor | None, points: DragPoints, samples: Tensor) -> Tensor:
    """The latent region the warp may move, [1 or B, h, w] bool, from an image-size MASK or None (= everything)."""
    if mask is None:
        return torch.ones((1, *samples.shape[-2:]), dtype=torch.bool, device=samples.device)
    mask = as_mask_batch(mask)
    check_mask_fits(mask, points, samples.shape[0])
    region = mask_to_latent(mask.float())
    check_editable(mask > 0, "mask", region)
    return region.to(samples.device)


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
    region = edit_region(mask, points, samples)
    if mask is None:  # the warp's own check would advise extending a mask that is not there
        check_handles_in_circle(handles.to(region.device), *mask_circle(region[0]), masked=False)
    warped, holes = fastdrag_warp(samples, region, handles, targets, aggregation, hole_fill)
    return warped, latent_mask_to_image(holes.cpu())


def fill_holes(samples: Tensor, holes: Tensor) -> Tensor:
    """BNNI-fill ``samples`` ([B, C, h, w]) where the MASK ``holes`` is set (latent or image size, see
    :func:`~drag.latent_masks.image_mask_to_latent`)."""
    holes = as_mask_batch(holes, "holes")
    return bnni(samples, image_mask_to_latent(holes, *samples.shape[-2:]))
