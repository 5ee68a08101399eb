"""DragKSampler's input checks (drag/lightningdrag/checks.py)."""

import torch

from helpers import error_of
from drag_editing_dev.drag.lightningdrag.attention import PointEmbeds
from drag_editing_dev.drag.lightningdrag.checks import check_edit_inputs, check_image_embeds


def _embeds(width=96, height=64):
    return PointEmbeds([], width, height, 1)


def test_matching_inputs_pass_and_give_the_mask():
    mask = torch.zeros(64, 96)
    mask[10:40, 20:60] = 1
    out = check_edit_inputs(_embeds(), (1, 4, 8, 12), torch.rand(1, 64, 96, 3), mask)
    assert out.shape == (1, 64, 96) and torch.equal(out[0], mask)


def test_inputs_of_another_image_or_an_empty_mask_are_refused():
    image, mask = torch.rand(1, 64, 96, 3), torch.ones(1, 64, 96)
    assert "made for a 64×64 image, but the appearance was encoded from a 96×64 image" in error_of(
        check_edit_inputs, _embeds(64, 64), (1, 4, 8, 12), image, mask)
    assert "got 2 of 96×64" in error_of(check_edit_inputs, _embeds(), (1, 4, 8, 12), image.repeat(2, 1, 1, 1), mask)
    assert "got 1 of 48×32" in error_of(check_edit_inputs, _embeds(), (1, 4, 8, 12), torch.rand(1, 32, 48, 3), mask)
    assert "mask: 32×32, but the image is 96×64" in error_of(check_edit_inputs, _embeds(), (1, 4, 8, 12), image, torch.ones(1, 32, 32))
    assert "mask: it is empty" in error_of(check_edit_inputs, _embeds(), (1, 4, 8, 12), image, torch.zeros(1, 64, 96))
    soft = error_of(check_edit_inputs, _embeds(), (1, 4, 8, 12), image, torch.full((1, 64, 96), 0.4))
    assert "largest value is 0.40" in soft and "binarises the mask at 0.5, as the official code does" in soft and "ThresholdMask" in soft
    assert "NaN" in error_of(check_edit_inputs, _embeds(), (1, 4, 8, 12), image, torch.full((1, 64, 96), float("nan")))


def test_image_embeds_must_be_clip_vit_h():
    assert check_image_embeds(torch.zeros(1, 1024)).shape == (1, 1024)
    assert "got a 768-wide one" in error_of(check_image_embeds, torch.zeros(1, 768))
    assert "got none" in error_of(check_image_embeds, None)
