"""Point augmentation: keep-still anchors around the mask (drag/lightningdrag/augment.py)."""

import torch

from helpers import error_of
from drag_editing_dev.drag.lightningdrag.augment import with_border_anchors
from drag_editing_dev.drag.points import DragPoints


POINTS = DragPoints.from_pairs([((30, 30), (50, 32))], 96, 64)


def test_anchors_are_still_pairs_just_outside_the_mask_all_around():
    mask = torch.zeros(64, 96)
    mask[20:40, 30:70] = 1
    points = with_border_anchors(POINTS, mask, 8)
    assert points.handles[:1] == POINTS.handles and points.targets[:1] == POINTS.targets
    anchors = points.handles[1:]
    assert len(anchors) == 8 and points.targets[1:] == anchors
    for x, y in anchors:
        r, c = int(y), int(x)
        assert mask[r, c] == 0 and mask[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2].any()  # outside, touching the mask
    angles = torch.tensor([torch.atan2(torch.tensor(y - 29.5), torch.tensor(x - 49.5)) for x, y in anchors])
    assert (angles.sort().values.diff() > 0.3).all()  # spread around, not bunched on one side
    assert with_border_anchors(POINTS, mask, 0) is POINTS


def test_anchors_need_a_partial_mask():
    assert error_of(with_border_anchors, POINTS, torch.zeros(64, 96), 4).startswith("mask: it is empty")
    assert "the whole image" in error_of(with_border_anchors, POINTS, torch.ones(64, 96), 4)
