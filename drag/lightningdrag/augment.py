"""Point augmentation (LightningDrag §4.4.1, "drag engineering"): extra pairs that make the intent
unambiguous. The official code has no automatic version (users click more points); this offers one:
"keep still" anchors, pairs with handle == target, spread evenly around the outside of the mask so
that the surroundings of the edited region stay where they are."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..checks import check_editable
from ..errors import DragInputError
from ..latent_masks import lightningdrag_editable
from ..points import DragPoints


def with_border_anchors(points: DragPoints, mask: Tensor, count: int) -> DragPoints:
    """``points`` followed by ``count`` anchor pairs (handle == target) on the pixels just outside ``mask``
    ([H, W] or [1, H, W] at the points' image size, editable by :func:`~drag.latent_masks.lightningdrag_editable`),
    picked at evenly spaced angles around the mask's centre. ``count`` 0 returns ``points`` unchanged."""
    if count <= 0:
        return points
    mask = lightningdrag_editable(mask.reshape(mask.shape[-2:]))
    check_editable(mask[None])
    if bool(mask.all()):
        raise DragInputError(
            "mask: anchors go just outside the editable region, but the mask is the whole image. Paint the region "
            "that may change, or set anchors to 0."
        )
    grown = F.max_pool2d(mask[None, None].float(), 3, stride=1, padding=1)[0, 0] > 0
    ring = (grown & ~mask).nonzero().float()  # (row, column)
    centre = mask.nonzero().float().mean(dim=0)
    angle = torch.atan2(ring[:, 0] - centre[0], ring[:, 1] - centre[1])
    order = angle.argsort()
    picks = order[(torch.arange(count) * len(order)) // count]
    anchors = [(float(c) + 0.5, float(r) + 0.5) for r, c in ring[picks].tolist()]
    return DragPoints(points.handles + tuple(anchors), points.targets + tuple(anchors), points.width, points.height)
