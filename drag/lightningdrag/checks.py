"""Checks that DragKSampler's inputs belong to one edit: one source image, its mask, its points."""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import LATENT_FACTOR, as_mask_batch, check_editable, check_mask_size
from ..errors import DragInputError
from ..latent_masks import lightningdrag_editable
from .attention import PointEmbeds
from .release import CLIP_VISION_DIM


def check_edit_inputs(embeds: PointEmbeds, source_shape: tuple[int, ...], image: Tensor, mask: Tensor) -> Tensor:
    """Raise unless the points (``embeds``), the encoded source latent ([1, 4, h, w]), the source
    ``image`` ([1, H, W, C]) and the editable ``mask`` ([1, H, W], 1 = may change, not empty) are all of
    one H × W image. Returns the mask as [1, H, W]."""
    h, w = source_shape[-2:]
    if (embeds.width // LATENT_FACTOR, embeds.height // LATENT_FACTOR) != (w, h):
        raise DragInputError(
            f"point_embeds: made for a {embeds.width}×{embeds.height} image, but the appearance was encoded from a "
            f"{w * LATENT_FACTOR}×{h * LATENT_FACTOR} image. Place the points on the source image that was encoded."
        )
    if image.dim() != 4 or image.shape[0] != 1 or tuple(image.shape[1:3]) != (embeds.height, embeds.width):
        found = f"{image.shape[0]} of {image.shape[2]}×{image.shape[1]}" if image.dim() == 4 else f"shape {list(image.shape)}"
        raise DragInputError(
            f"image: expected the one {embeds.width}×{embeds.height} source image, got {found}. "
            "Connect the image the points were placed on."
        )
    mask = as_mask_batch(mask)[:1]
    check_mask_size(mask, embeds.width, embeds.height, 1)
    largest = float(mask.max())
    if 0 < largest < 0.5:
        raise DragInputError(
            f"mask: its largest value is {largest:.2f}. LightningDrag binarises the mask at 0.5, as the official code does, "
            "so nothing may change. Use a mask whose editable region is 1 (paint it at full strength, or pass a soft "
            "mask through ThresholdMask with a value below its strength)."
        )
    check_editable(lightningdrag_editable(mask))
    return mask


def check_image_embeds(image_embeds: Tensor | None) -> Tensor:
    """Raise unless ``image_embeds`` is CLIP-ViT-H-14's [B, 1024] image embedding (what IP-Adapter sd15 reads)."""
    if image_embeds is None or image_embeds.shape[-1] != CLIP_VISION_DIM or not bool(torch.isfinite(image_embeds).all()):
        found = "none" if image_embeds is None else f"a {image_embeds.shape[-1]}-wide one"
        raise DragInputError(
            f"clip_vision_output: IP-Adapter sd15 needs the 1024-wide image embedding of CLIP-ViT-H-14, got {found}. "
            "Load CLIP-ViT-H-14-laion2B-s32B-b79K with CLIPVisionLoader and encode the source with CLIPVisionEncode (crop: center)."
        )
    return image_embeds
