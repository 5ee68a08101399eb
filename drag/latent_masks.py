"""Conversions between latent-resolution masks and ComfyUI MASKs at image resolution."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from .checks import LATENT_FACTOR


def latent_mask_to_image(mask: Tensor) -> Tensor:
    """A [B, h, w] bool latent mask as a ComfyUI MASK [B, 8h, 8w] float (each latent pixel an 8×8 block)."""
    return mask.float().repeat_interleave(LATENT_FACTOR, -2).repeat_interleave(LATENT_FACTOR, -1)


def image_mask_to_latent(mask: Tensor, height: int, width: int) -> Tensor:
    """A ComfyUI MASK [B, H, W] as a [B, height, width] bool latent mask.

    A mask already at latent size is thresholded at 0.5. Otherwise a latent pixel is set when at
    least half of the image pixels it covers are set (area average ≥ 0.5), which inverts
    :func:`latent_mask_to_image` exactly.
    """
    if mask.shape[-2:] != (height, width):
        mask = F.adaptive_avg_pool2d(mask[:, None].float(), (height, width))[:, 0]
    return mask >= 0.5
