"""What the FastDragWarp and BNNI nodes compute from image-space inputs (drag/fastdrag/image_space.py), and every
bad input they refuse."""

import pytest
import torch

from helpers import error_of
from drag_editing_dev.drag.fastdrag.bnni import bnni
from drag_editing_dev.drag.fastdrag.image_space import fill_holes, warp_latent
from drag_editing_dev.drag.fastdrag.to_latent import points_to_latent
from drag_editing_dev.drag.fastdrag.warp import apply_relocation, fastdrag_warp
from drag_editing_dev.drag.latent_masks import image_mask_to_latent, latent_mask_to_image
from drag_editing_dev.drag.points import DragPoints


def _case_in_image_space(case):
    """A reference case as the nodes see it: points in image pixels (x, y), mask at 512²."""
    to_image = lambda yx: [(float(x) * 2, float(y) * 2) for y, x in yx.tolist()]  # noqa: E731
    points = DragPoints.from_pairs(zip(to_image(case["handles_halfres"]), to_image(case["targets_halfres"])), 512, 512)
    mask = latent_mask_to_image(case["mask"][:, 0] > 0)
    return points, mask


@pytest.mark.parametrize("name", ["single_rect", "two_drags"])
def test_image_space_warp_and_fill_reproduce_the_official_outputs(fastdrag_case, name):
    case = fastdrag_case(name)
    points, mask = _case_in_image_space(case)
    handles, targets = points_to_latent(points)
    assert torch.equal(handles, case["handles_latent"]) and torch.equal(targets, case["targets_latent"])
    warped, holes = warp_latent(case["latent"], points, mask)
    assert torch.equal(warped, case["out_relocated"])
    assert holes.shape == (1, 512, 512)
    assert torch.equal(image_mask_to_latent(holes, 64, 64)[0], case["src_index"] < 0)
    assert torch.equal(fill_holes(warped, holes), case["out_final"])


def test_without_a_mask_the_whole_latent_may_move():
    latent = torch.randn(1, 4, 24, 32)
    points = DragPoints.from_pairs([((100.0, 90.0), (140.0, 90.0))], 256, 192)
    warped, holes = warp_latent(latent, points)
    handles, targets = points_to_latent(points)
    expected, expected_holes = fastdrag_warp(latent, torch.ones(24, 32, dtype=torch.bool), handles, targets)
    assert torch.equal(warped, expected)
    assert torch.equal(holes, latent_mask_to_image(expected_holes))


def test_aggregation_and_hole_fill_reach_the_warp():
    latent = torch.randn(1, 4, 24, 32)
    points = DragPoints.from_pairs([((60.0, 90.0), (120.0, 90.0)), ((200.0, 90.0), (140.0, 90.0))], 256, 192)
    a, _ = warp_latent(latent, points, aggregation="inverse_distance")
    b, _ = warp_latent(latent, points, aggregation="nearest_handle")
    assert not torch.equal(a, b)
    c, holes = warp_latent(latent, points, hole_fill="original")
    lat_holes = image_mask_to_latent(holes, 24, 32)[0]
    assert torch.equal(c[0][:, lat_holes], latent[0][:, lat_holes])


POINTS = DragPoints.from_pairs([((100.0, 90.0), (140.0, 90.0))], 256, 192)


def test_warp_refuses_a_latent_of_another_image():
    msg = error_of(warp_latent, torch.randn(1, 4, 64, 64), POINTS)
    assert "latent is 64×64" in msg and "placed on a 256×192 image, whose latent is 32×24" in msg
    assert "shape [batch, channels, height, width]" in error_of(warp_latent, torch.randn(4, 24, 32), POINTS)


def test_warp_refuses_a_nan_latent():
    latent = torch.randn(1, 4, 24, 32)
    latent[0, 1, 3, 4] = float("nan")
    assert "NaN or infinite" in error_of(warp_latent, latent, POINTS)


def test_warp_refuses_empty_tiny_wrong_size_and_wrong_batch_masks():
    latent = torch.randn(2, 4, 24, 32)
    assert error_of(warp_latent, latent, POINTS, torch.zeros(1, 192, 256)).startswith("mask: it is empty")
    one_pixel = torch.zeros(1, 192, 256)
    one_pixel[0, 101, 101] = 1  # official sampling reads rows/cols 8i+2, 8i+4 only
    assert "mask: it covers too little to reach any latent pixel" in error_of(warp_latent, latent, POINTS, one_pixel)
    per_image = torch.ones(2, 192, 256)
    per_image[1] = 0
    assert error_of(warp_latent, latent, POINTS, per_image).startswith("mask: it is empty")
    assert "mask: 128×96, but the image is 256×192" in error_of(warp_latent, latent, POINTS, torch.ones(1, 96, 128))
    assert "3 masks for a batch of 2" in error_of(warp_latent, latent, POINTS, torch.ones(3, 192, 256))


def test_warp_refuses_a_handle_outside_the_masks_circle():
    mask = torch.zeros(1, 192, 256)
    mask[:, 20:60, 20:60] = 1  # far from the handle at (100, 90)
    msg = error_of(warp_latent, torch.randn(1, 4, 24, 32), POINTS, mask)
    assert "handle of pair 1" in msg and "outside the circle" in msg and "Extend the mask" in msg


def test_without_a_mask_a_handle_in_a_corner_gets_advice_that_fits():
    corner = DragPoints.from_pairs([((124, 124), (120, 120))], 128, 128)
    msg = error_of(warp_latent, torch.randn(1, 4, 16, 16), corner)
    assert msg.startswith("points: the handle of pair 1") and "No mask is connected" in msg and "Extend the mask" not in msg
    assert "Move the handle to within 85 px of the centre (it is 91 px away)" in msg
    tiny = DragPoints.from_pairs([((6, 6), (2, 2))], 8, 8)
    msg = error_of(warp_latent, torch.randn(1, 4, 1, 1), tiny)
    assert "too small for FastDrag" in msg and "at least 16 px" in msg and "Extend the mask" not in msg


def test_unknown_option_names_are_refused():
    latent = torch.randn(1, 4, 24, 32)
    assert "aggregation: 'mean'" in error_of(warp_latent, latent, POINTS, aggregation="mean")
    assert "hole_fill: 'noise'" in error_of(warp_latent, latent, POINTS, hole_fill="noise")


def test_warp_and_bnni_leave_their_inputs_alone():
    # ComfyUI hands the same tensors to every consumer of an output: nodes must not modify inputs.
    latent = torch.randn(1, 4, 8, 8)
    before = latent.clone()
    src = torch.arange(64).view(8, 8).flip(1)
    src[0, 0] = -1
    warped, _ = apply_relocation(latent, src)
    warped_before = warped.clone()
    filled = bnni(warped, src < 0)
    assert torch.equal(latent, before)
    assert torch.equal(warped, warped_before)
    assert not torch.equal(filled[..., 0, 0], warped[..., 0, 0])


def test_bnni_refuses_holes_everywhere_and_a_batch_mismatch():
    latent = torch.randn(2, 4, 8, 8)
    assert "covers the whole latent" in error_of(fill_holes, latent, torch.ones(1, 64, 64))
    assert "3 hole maps for a batch of 2" in error_of(bnni, latent, torch.zeros(3, 8, 8, dtype=torch.bool))
    assert "NaN" in error_of(fill_holes, latent, torch.full((1, 64, 64), float("nan")))


def test_bnni_without_holes_changes_nothing():
    latent = torch.randn(1, 4, 8, 8)
    assert torch.equal(fill_holes(latent, torch.zeros(1, 64, 64)), latent)
