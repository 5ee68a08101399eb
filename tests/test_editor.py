"""What the DragPointsEditor node outputs (drag/editor.py): the points and the editable region, the canvas's
mask edits, and every bad document it refuses."""

import json

import torch

from helpers import error_of, runs
from drag_editing_dev.drag.editor import editor_outputs


def test_editor_outputs_default_and_connected_mask():
    image = torch.rand(2, 64, 96, 3)
    points, mask = editor_outputs(image, '{"pairs": [{"handle": [10, 20], "target": [30, 40]}]}', None)
    assert points.size == (96, 64)
    assert mask.shape == (1, 64, 96) and bool((mask == 1).all())
    given = torch.rand(64, 96)
    _, mask = editor_outputs(image, '[{"x": 10, "y": 20}, {"x": 30, "y": 40}]', given)
    assert torch.equal(mask, given[None])


def test_editor_refuses_points_from_another_image_and_a_wrong_mask():
    image = torch.rand(1, 64, 96, 3)
    good = '{"pairs": [{"handle": [10, 20], "target": [30, 40]}]}'
    msg = error_of(editor_outputs, image, '{"width": 512, "height": 512, "pairs": [{"handle": [1, 2], "target": [3, 4]}]}', None)
    assert "placed on a 512×512 image but the image is 96×64" in msg
    assert "mask: 32×64, but the image is 96×64" in error_of(editor_outputs, image, good, torch.ones(1, 64, 32))
    assert "3 masks for a batch of 1" in error_of(editor_outputs, image, good, torch.ones(3, 64, 96))
    assert "NaN" in error_of(editor_outputs, image, good, torch.full((1, 64, 96), float("nan")))
    assert "shape [batch, height, width]" in error_of(editor_outputs, image, good, torch.ones(1, 1, 64, 96))
    assert "no drag pairs" in error_of(editor_outputs, image, '{"pairs": []}', None)


def test_editor_applies_the_canvas_mask_edits():
    image = torch.rand(1, 4, 6, 3)
    edits = torch.zeros(4, 6, dtype=torch.int64)
    edits[1, 1:4] = 1  # painted
    edits[2, 2] = 2  # erased
    doc = {"width": 6, "height": 4, "pairs": [{"handle": [1, 1], "target": [2, 2]}], "mask": {"runs": runs(edits)}}
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
    assert "does not cover the 6×4 image (5 pixels)" in error_of(editor_outputs, image, json.dumps(doc), None)
    doc["mask"]["runs"] = [3, 24]
    assert "does not cover" in error_of(editor_outputs, image, json.dumps(doc), None)
    doc["mask"] = {"runs": "x"}
    assert "malformed" in error_of(editor_outputs, image, json.dumps(doc), None)
    for bad in ([1, 10**30], [1, -24, 1, 48], [0, 24 + 2**64, 0, -(2**64)]):  # counts that would overflow a tensor
        doc["mask"] = {"runs": bad}
        assert error_of(editor_outputs, image, json.dumps(doc), None).startswith("points: the painted mask does not cover")


def test_editor_documents_that_are_not_json_name_the_input():
    image = torch.rand(1, 4, 6, 3)
    for text in ('{"pairs": [' + "[" * 60_000, '{"width": 6, "height": 4, "pairs": [], "n": 1' + "0" * 5000 + "}"):
        assert error_of(editor_outputs, image, text, None).startswith("points: ")

