"""What the DragPointsEditor node outputs for its inputs."""

from __future__ import annotations

import torch
from torch import Tensor

from .checks import as_mask_batch, check_mask_fits
from .points import DragPoints


def editor_outputs(image: Tensor, points_json: str, mask: Tensor | None) -> tuple[DragPoints, Tensor]:
    """Parse the points placed on ``image`` ([B, H, W, C]) and pick the editable-region MASK.

    The points must refer to the image's size. The mask is the connected one ([B or 1, H, W], checked
    against the image), or all ones ([1, H, W]: everything editable) when none is connected.
    """
    batch, height, width = image.shape[:3]
    points = DragPoints.from_json(points_json, width=width, height=height)
    points.check_size(width, height, "the image")
    if mask is None:
        return points, torch.ones((1, height, width), dtype=torch.float32)
    mask = as_mask_batch(mask)
    check_mask_fits(mask, points, batch)
    return points, mask
