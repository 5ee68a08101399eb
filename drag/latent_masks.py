"""Masks: which pixels of a ComfyUI MASK are editable under each method's rule, and conversions between
latent-resolution masks and MASKs at image resolution.

Each method binarises a soft mask by its official code's rule, so a mask of values between 0 and 1 gives
each method the region its own code would give it: :func:`fastdrag_editable` (any value above 0) and
:func:`lightningdrag_editable` (0.5 and above).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from .checks import LATENT_FACTOR


def fastdrag_editable(mask: Tensor) -> Tensor:
    """FastDrag's editable pixels of ``mask`` (any shape, 1 = may change): every value above 0, bool. The official
    demo binarises the user's sketch with ``> 0`` and later treats any nonzero pixel as masked."""
    return mask > 0


def lightningdrag_editable(mask: Tensor) -> Tensor:
    """LightningDrag's editable pixels of ``mask`` (any shape, 1 = may change): values of 0.5 and above, bool. The
    official pipeline binarises the mask with diffusers' ``VaeImageProcessor(do_binarize=True)``, which sets
    values below 0.5 to 0 and the rest to 1."""
    return mask >= 0.5


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
