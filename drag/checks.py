"""Checks that the tensors a node receives fit each other and the drag points.

Shapes follow ComfyUI: IMAGE is [B, H, W, C] floats in 0-1, MASK is [B, H, W] (or [H, W]) floats in
0-1, a LATENT's samples are [B, C, H/8, W/8]. Every check raises :class:`DragInputError` with the
input's name, the value found and the fix.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .errors import DragInputError
from .points import DragPoints

LATENT_FACTOR = 8
"""Image pixels per latent pixel (SD-family VAEs)."""

LOAD_IMAGE_PLACEHOLDER = (64, 64)
"""Size (H, W) of the all-zero MASK that core LoadImage outputs for an image without alpha."""


def as_mask_batch(mask: Tensor, name: str = "mask") -> Tensor:
    """A ComfyUI MASK as [B, H, W]; raises unless it is 2-D or 3-D and free of NaN."""
    if mask.dim() == 2:
        mask = mask[None]
    if mask.dim() != 3:
        raise DragInputError(f"{name}: expected a MASK of shape [batch, height, width], got shape {list(mask.shape)}.")
    check_finite(mask, name)
    return mask


def check_mask_size(mask: Tensor, width: int, height: int, batch: int, name: str = "mask") -> None:
    """Raise unless ``mask`` ([B, H, W]) is ``width`` × ``height`` and has 1 or ``batch`` elements."""
    if tuple(mask.shape[-2:]) != (height, width):
        raise DragInputError(
            f"{name}: {mask.shape[-1]}×{mask.shape[-2]}, but the image is {width}×{height}. Connect a mask of the "
            "image being edited (DragPointsEditor's mask output), at its size."
        )
    if mask.shape[0] not in (1, batch):
        raise DragInputError(f"{name}: {mask.shape[0]} masks for a batch of {batch}; connect one mask, or one per image.")


def check_mask_fits(mask: Tensor, points: DragPoints, batch: int, name: str = "mask") -> None:
    """Raise unless ``mask`` ([B, H, W]) is at the points' image size and has 1 or ``batch`` elements."""
    if mask.shape[-2:] == LOAD_IMAGE_PLACEHOLDER and mask.shape[-2:] != (points.height, points.width) and not bool(mask.any()):
        raise DragInputError(
            f"{name}: the connected mask is an empty 64×64 mask, which is what LoadImage outputs for an image "
            "without an alpha channel. Paint the editable region in LoadImage's mask editor (right click → Open in "
            "MaskEditor), or disconnect the mask to make the whole image editable."
        )
    check_mask_size(mask, points.width, points.height, batch, name)


def check_editable(editable: Tensor, name: str = "mask", latent: Tensor | None = None) -> None:
    """Raise unless every mask of ``editable`` ([B, H, W] bool, True = may change) marks something, and,
    with ``latent`` (the same masks on the latent grid, [B, h, w] bool), reaches a latent pixel too."""
    if not bool(editable.flatten(1).any(dim=1).all()):
        raise DragInputError(
            f"{name}: it is empty, so nothing may change. Paint the region that may change (it should cover the "
            f"handles), or disconnect the {name} input to let the whole image change."
        )
    if latent is not None and not bool(latent.flatten(1).any(dim=1).all()):
        raise DragInputError(
            f"{name}: it covers too little to reach any latent pixel (each is 8×8 image pixels). Paint a larger "
            f"region (it should cover the handles), or disconnect the {name} input to let the whole image change."
        )


def check_finite(samples: Tensor, name: str = "latent") -> None:
    """Raise if ``samples`` holds NaN or infinite values."""
    if not bool(torch.isfinite(samples).all()):
        raise DragInputError(f"{name}: it contains NaN or infinite values; check the node that produced it.")


def check_latent_fits(samples: Tensor, points: DragPoints, name: str = "latent") -> None:
    """Raise unless ``samples`` ([B, C, h, w]) is the latent of the image the points were placed on, and finite."""
    if samples.dim() != 4:
        raise DragInputError(f"{name}: expected image latents of shape [batch, channels, height, width], got shape {list(samples.shape)}.")
    h, w = samples.shape[-2:]
    expected = (points.height // LATENT_FACTOR, points.width // LATENT_FACTOR)
    if (h, w) != expected:
        raise DragInputError(
            f"{name}: the latent is {w}×{h} (an image of about {w * LATENT_FACTOR}×{h * LATENT_FACTOR} px), but the "
            f"points were placed on a {points.width}×{points.height} image, whose latent is {expected[1]}×{expected[0]}. "
            "Encode the same image that the points were placed on."
        )
    check_finite(samples, name)
