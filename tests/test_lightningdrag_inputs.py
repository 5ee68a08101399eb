"""LightningDrag's input checks and point augmentation (no ComfyUI)."""

from __future__ import annotations

import pytest
import torch

from drag_editing_pack_under_test.drag.errors import DragInputError
from drag_editing_pack_under_test.drag.lightningdrag.attention import PointEmbeds
from drag_editing_pack_under_test.drag.lightningdrag.augment import with_border_anchors
from drag_editing_pack_under_test.drag.lightningdrag.checks import check_edit_inputs, check_image_embeds
from drag_editing_pack_under_test.drag.points import DragPoints

POINTS = DragPoints.from_pairs([((30, 30), (50, 32))], 96, 64)


def _embeds(width=96, height=64):
    return PointEmbeds([], width, height, 1)


def _error(fn, *args):
    with pytest.raises(DragInputError) as info:
        fn(*args)
    return str(info.value)


def test_matching_inputs_pass_and_give_the_mask():
    mask = torch.zeros(64, 96)
    mask[10:40, 20:60] = 1
    out = check_edit_inputs(_embeds(), (1, 4, 8, 12), torch.rand(1, 64, 96, 3), mask)
    assert out.shape == (1, 64, 96) and torch.equal(out[0], mask)


def test_inputs_of_another_image_or_an_empty_mask_are_refused():
    image, mask = torch.rand(1, 64, 96, 3), torch.ones(1, 64, 96)
    assert "made for a 64×64 image, but the appearance was encoded from a 96×64 image" in _error(
        check_edit_inputs, _embeds(64, 64), (1, 4, 8, 12), image, mask)
    assert "got 2 of 96×64" in _error(check_edit_inputs, _embeds(), (1, 4, 8, 12), image.repeat(2, 1, 1, 1), mask)
    assert "got 1 of 48×32" in _error(check_edit_inputs, _embeds(), (1, 4, 8, 12), torch.rand(1, 32, 48, 3), mask)
    assert "mask: 32×32, but the image is 96×64" in _error(check_edit_inputs, _embeds(), (1, 4, 8, 12), image, torch.ones(1, 32, 32))
    assert "mask: it is empty" in _error(check_edit_inputs, _embeds(), (1, 4, 8, 12), image, torch.full((1, 64, 96), 0.4))
    assert "NaN" in _error(check_edit_inputs, _embeds(), (1, 4, 8, 12), image, torch.full((1, 64, 96), float("nan")))


def test_image_embeds_must_be_clip_vit_h():
    assert check_image_embeds(torch.zeros(1, 1024)).shape == (1, 1024)
    assert "got a 768-wide one" in _error(check_image_embeds, torch.zeros(1, 768))
    assert "got none" in _error(check_image_embeds, None)


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
    assert "the mask is empty" in _error(with_border_anchors, POINTS, torch.zeros(64, 96), 4)
    assert "the whole image" in _error(with_border_anchors, POINTS, torch.ones(64, 96), 4)
