"""The official FastDrag mapping of image-space drag points and mask to the latent grid.

FastDrag (``utils/ui_utils.py``) does not divide image coordinates by 8 directly. It goes through a
half-resolution grid: a point (x, y) of a W × H image becomes ``round(y / H * int(H/2))`` (computed
in double, stored as float32, rounded half to even), and the warp divides that by 4 without
rounding, so latent coordinates are multiples of 0.25. The mask is binarised, brought to half
resolution with nearest sampling, then to the latent grid with a bilinear resize *without*
antialiasing (torchvision 0.15 semantics; a modern torchvision default would give a larger mask).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..latent_masks import fastdrag_editable
from ..points import DragPoints


def half_resolution(width: int, height: int) -> tuple[int, int]:
    """(half width, half height) of the official grid: ``int(0.5 * size)``."""
    return int(0.5 * width), int(0.5 * height)


def points_to_latent(points: DragPoints) -> tuple[Tensor, Tensor]:
    """Handles and targets as float32 [K, 2] **latent (y, x)**, exactly as the official pipeline maps them."""
    half_w, half_h = half_resolution(points.width, points.height)

    def convert(xy: tuple[tuple[float, float], ...]) -> Tensor:
        p = torch.tensor(xy, dtype=torch.float64)  # (x, y) image pixels
        y = p[:, 1] / points.height * half_h  # the same double operations as the official code
        x = p[:, 0] / points.width * half_w
        return torch.round(torch.stack([y, x], dim=1).float()) / 4

    return convert(points.handles), convert(points.targets)


def mask_to_latent(mask: Tensor) -> Tensor:
    """The official latent edit mask of an image-resolution mask.

    ``mask``: [B, H, W] float (ComfyUI MASK, 1 = may change; :func:`~drag.latent_masks.fastdrag_editable`: any value > 0).
    Returns [B, H//8, W//8] bool, True where the warp may move pixels.
    """
    b, h, w = mask.shape
    half_w, half_h = half_resolution(w, h)
    binary = fastdrag_editable(mask).float()[:, None]
    half = F.interpolate(binary, (half_h, half_w), mode="nearest")
    latent = F.interpolate(half, (int(half_h / 4), int(half_w / 4)), mode="bilinear", align_corners=False, antialias=False)
    return latent[:, 0] > 0
