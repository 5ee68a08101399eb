"""What the FastDragWarp, BNNI and DragPointsEditor nodes compute, and every bad input they refuse."""

import json

import pytest
import torch

from drag_editing_pack_under_test.drag.editor import editor_outputs
from drag_editing_pack_under_test.drag.errors import DragInputError
from drag_editing_pack_under_test.drag.fastdrag.bnni import bnni
from drag_editing_pack_under_test.drag.fastdrag.image_space import fill_holes, warp_latent
from drag_editing_pack_under_test.drag.fastdrag.to_latent import points_to_latent
from drag_editing_pack_under_test.drag.fastdrag.warp import apply_relocation, fastdrag_warp
from drag_editing_pack_under_test.drag.latent_masks import image_mask_to_latent, latent_mask_to_image
from drag_editing_pack_under_test.drag.points import DragPoints


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


def test_points_map_through_the_half_resolution_grid_rounding_half_to_even():
    # x: 221 → 110.5 → 110 (even) → 27.5; 223 → 111.5 → 112 → 28.0. y on a 300-px-high image: int(150)
    # half rows, 101 → 50.5 → 50 → 12.5.
    points = DragPoints.from_pairs([((221, 101), (223, 101))], 512, 300)
    handles, targets = points_to_latent(points)
    assert handles.tolist() == [[12.5, 27.5]]
    assert targets.tolist() == [[12.5, 28.0]]


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


def test_latent_masks_round_trip_and_area_rule():
    holes = torch.rand(2, 12, 10) > 0.6
    image = latent_mask_to_image(holes)
    assert image.shape == (2, 96, 80) and image.dtype == torch.float32
    assert torch.equal(image_mask_to_latent(image, 12, 10), holes)
    assert torch.equal(image_mask_to_latent(holes.float(), 12, 10), holes)  # already at latent size
    half = torch.zeros(1, 16, 16)
    half[:, :8, :4] = 1  # half of latent pixel (0, 0), none of the others
    assert image_mask_to_latent(half, 2, 2).tolist() == [[[True, False], [False, False]]]


def test_editor_outputs_default_and_connected_mask():
    image = torch.rand(2, 64, 96, 3)
    points, mask = editor_outputs(image, '{"pairs": [{"handle": [10, 20], "target": [30, 40]}]}', None)
    assert points.size == (96, 64)
    assert mask.shape == (1, 64, 96) and bool((mask == 1).all())
    given = torch.rand(64, 96)
    _, mask = editor_outputs(image, '[{"x": 10, "y": 20}, {"x": 30, "y": 40}]', given)
    assert torch.equal(mask, given[None])


# ---- bad inputs --------------------------------------------------------------------------------

POINTS = DragPoints.from_pairs([((100.0, 90.0), (140.0, 90.0))], 256, 192)


def _error(fn, *args, **kwargs) -> str:
    with pytest.raises(DragInputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_editor_refuses_points_from_another_image_and_a_wrong_mask():
    image = torch.rand(1, 64, 96, 3)
    good = '{"pairs": [{"handle": [10, 20], "target": [30, 40]}]}'
    msg = _error(editor_outputs, image, '{"width": 512, "height": 512, "pairs": [{"handle": [1, 2], "target": [3, 4]}]}', None)
    assert "placed on a 512×512 image but the image is 96×64" in msg
    assert "the mask is 32×64" in _error(editor_outputs, image, good, torch.ones(1, 64, 32))
    assert "3 masks for a batch of 1" in _error(editor_outputs, image, good, torch.ones(3, 64, 96))
    assert "NaN" in _error(editor_outputs, image, good, torch.full((1, 64, 96), float("nan")))
    assert "shape [batch, height, width]" in _error(editor_outputs, image, good, torch.ones(1, 1, 64, 96))
    assert "no drag pairs" in _error(editor_outputs, image, '{"pairs": []}', None)


def test_loadimage_placeholder_mask_is_named():
    image = torch.rand(1, 64, 96, 3)
    points = '{"pairs": [{"handle": [10, 20], "target": [30, 40]}]}'
    msg = _error(editor_outputs, image, points, torch.zeros(1, 64, 64))
    assert "LoadImage outputs for an image without an alpha channel" in msg and "MaskEditor" in msg
    # A painted 64×64 mask, or an empty one on a 64×64 image, is judged by size as any other mask.
    assert "the mask is 64×64" in _error(editor_outputs, image, points, torch.ones(1, 64, 64))
    square = torch.rand(1, 64, 64, 3)
    assert editor_outputs(square, points, torch.zeros(1, 64, 64))[1].shape == (1, 64, 64)


def test_warp_refuses_a_latent_of_another_image():
    msg = _error(warp_latent, torch.randn(1, 4, 64, 64), POINTS)
    assert "latent is 64×64" in msg and "placed on a 256×192 image, whose latent is 32×24" in msg
    assert "shape [batch, channels, height, width]" in _error(warp_latent, torch.randn(4, 24, 32), POINTS)


def test_warp_refuses_a_nan_latent():
    latent = torch.randn(1, 4, 24, 32)
    latent[0, 1, 3, 4] = float("nan")
    assert "NaN or infinite" in _error(warp_latent, latent, POINTS)


def test_warp_refuses_empty_tiny_wrong_size_and_wrong_batch_masks():
    latent = torch.randn(2, 4, 24, 32)
    assert "the mask is empty" in _error(warp_latent, latent, POINTS, torch.zeros(1, 192, 256))
    one_pixel = torch.zeros(1, 192, 256)
    one_pixel[0, 101, 101] = 1  # official sampling reads rows/cols 8i+2, 8i+4 only
    assert "covers too little" in _error(warp_latent, latent, POINTS, one_pixel)
    per_image = torch.ones(2, 192, 256)
    per_image[1] = 0
    assert "the mask is empty" in _error(warp_latent, latent, POINTS, per_image)
    assert "the mask is 128×96" in _error(warp_latent, latent, POINTS, torch.ones(1, 96, 128))
    assert "3 masks for a batch of 2" in _error(warp_latent, latent, POINTS, torch.ones(3, 192, 256))


def test_warp_refuses_a_handle_outside_the_masks_circle():
    mask = torch.zeros(1, 192, 256)
    mask[:, 20:60, 20:60] = 1  # far from the handle at (100, 90)
    msg = _error(warp_latent, torch.randn(1, 4, 24, 32), POINTS, mask)
    assert "handle of pair 1" in msg and "outside the circle" in msg and "Extend the mask" in msg


def test_unknown_option_names_are_refused():
    latent = torch.randn(1, 4, 24, 32)
    assert "aggregation: 'mean'" in _error(warp_latent, latent, POINTS, aggregation="mean")
    assert "hole_fill: 'noise'" in _error(warp_latent, latent, POINTS, hole_fill="noise")


def test_bnni_refuses_holes_everywhere_and_a_batch_mismatch():
    latent = torch.randn(2, 4, 8, 8)
    assert "covers the whole latent" in _error(fill_holes, latent, torch.ones(1, 64, 64))
    assert "3 hole maps for a batch of 2" in _error(bnni, latent, torch.zeros(3, 8, 8, dtype=torch.bool))
    assert "NaN" in _error(fill_holes, latent, torch.full((1, 64, 64), float("nan")))


def test_bnni_without_holes_changes_nothing():
    latent = torch.randn(1, 4, 8, 8)
    assert torch.equal(fill_holes(latent, torch.zeros(1, 64, 64)), latent)


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


def _runs(layer: torch.Tensor) -> list[int]:
    flat = layer.flatten().tolist()
    runs, i = [], 0
    while i < len(flat):
        j = i
        while j < len(flat) and flat[j] == flat[i]:
            j += 1
        runs += [flat[i], j - i]
        i = j
    return runs


def test_editor_applies_the_canvas_mask_edits():
    image = torch.rand(1, 4, 6, 3)
    edits = torch.zeros(4, 6, dtype=torch.int64)
    edits[1, 1:4] = 1  # painted
    edits[2, 2] = 2  # erased
    doc = {"width": 6, "height": 4, "pairs": [{"handle": [1, 1], "target": [2, 2]}], "mask": {"runs": _runs(edits)}}
    _, painted_only = editor_outputs(image, json.dumps(doc), None)
    assert torch.equal(painted_only[0], (edits == 1).float())
    base = torch.zeros(1, 4, 6)
    base[:, 2:, :] = 1
    _, refined = editor_outputs(image, json.dumps(doc), base)
    expected = base.clone()
    expected[0, 1, 1:4] = 1
    expected[0, 2, 2] = 0
    assert torch.equal(refined, expected)
    doc["mask"]["runs"] = [1, 5]
    assert "does not cover the 6×4 image (5 pixels)" in _error(editor_outputs, image, json.dumps(doc), None)
    doc["mask"]["runs"] = [3, 24]
    assert "does not cover" in _error(editor_outputs, image, json.dumps(doc), None)
    doc["mask"] = {"runs": "x"}
    assert "malformed" in _error(editor_outputs, image, json.dumps(doc), None)
    for runs in ([1, 10**30], [1, -24, 1, 48], [0, 24 + 2**64, 0, -(2**64)]):  # counts that would overflow a tensor
        doc["mask"] = {"runs": runs}
        assert _error(editor_outputs, image, json.dumps(doc), None).startswith("points: the painted mask does not cover")


def test_editor_documents_that_are_not_json_name_the_input():
    image = torch.rand(1, 4, 6, 3)
    for text in ('{"pairs": [' + "[" * 60_000, '{"width": 6, "height": 4, "pairs": [], "n": 1' + "0" * 5000 + "}"):
        assert _error(editor_outputs, image, text, None).startswith("points: ")


def test_documents_still_being_filled_in_are_recognised():
    from drag_editing_pack_under_test.drag.editor import awaiting_points

    assert awaiting_points('{"pairs": []}')
    assert awaiting_points('{"width": 6, "height": 4, "pairs": [{"handle": [1, 1]}]}')
    assert not awaiting_points('{"pairs": [{"handle": [1, 1], "target": [2, 2]}]}')
    assert not awaiting_points("not json") and not awaiting_points("[]") and not awaiting_points('{"x": 1}')
    assert not awaiting_points('{"pairs": [], "n": 1' + "0" * 5000 + "}") and not awaiting_points("[" * 100_000)
