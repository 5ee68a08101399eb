"""DRAG_POINTS: JSON round trip, the other packs' point-list form, rescaling, validation errors."""

import json
import math

import pytest

from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.points import DragPoints


def test_json_round_trip():
    p = DragPoints.from_pairs([((10.5, 20.0), (30.0, 40.25)), ((0, 0), (511.9, 383))], 512, 384)
    q = DragPoints.from_json(p.to_json())
    assert q == p
    doc = json.loads(p.to_json())
    assert doc == {
        "width": 512,
        "height": 384,
        "pairs": [{"handle": [10.5, 20.0], "target": [30.0, 40.25]}, {"handle": [0.0, 0.0], "target": [511.9, 383.0]}],
    }


def test_object_form_ignores_extra_keys_and_takes_size_from_caller_when_absent():
    text = '{"pairs": [{"handle": [1, 2], "target": [3, 4]}], "mask": "editor state"}'
    p = DragPoints.from_json(text, width=64, height=32)
    assert p.size == (64, 32)
    assert p.handles == ((1.0, 2.0),) and p.targets == ((3.0, 4.0),)
    # A size in the document wins over the caller's.
    assert DragPoints.from_json('{"width": 10, "height": 10, "pairs": [{"handle": [1, 2], "target": [3, 4]}]}', 64, 32).size == (10, 10)


@pytest.mark.parametrize(
    "text",
    ['[{"x": 1, "y": 2}, {"x": 3, "y": 4}, {"x": 5, "y": 6}, {"x": 7, "y": 8}]', "[[1, 2], [3, 4], [5, 6], [7, 8]]"],
)
def test_point_list_form_alternates_handle_and_target(text):
    p = DragPoints.from_json(text, width=16, height=16)
    assert p.handles == ((1.0, 2.0), (5.0, 6.0))
    assert p.targets == ((3.0, 4.0), (7.0, 8.0))


def test_rescaled_scales_each_axis():
    p = DragPoints.from_pairs([((100, 50), (200, 150))], 400, 200)
    q = p.rescaled(200, 400)
    assert q.size == (200, 400)
    assert q.handles == ((50.0, 100.0),) and q.targets == ((100.0, 300.0),)
    assert q.rescaled(400, 200) == p


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("{not json", "could not be read"),
        ('"a string"', "expected a JSON object or list"),
        ('{"width": 8, "height": 8}', "no 'pairs'"),
        ('{"width": 8, "height": 8, "pairs": []}', "no drag pairs"),
        ("[]", "no drag pairs"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1, 1]}]}', "pair 1 has a handle at [1, 1] but no target"),
        ('{"width": 8, "height": 8, "pairs": [{"target": [1, 1]}]}', "pair 1 has no handle"),
        ('[[1, 1], [2, 2], [3, 3]]', "point 3 (3, 3) is a handle without a target"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [NaN, 1], "target": [2, 2]}]}', "pair 1 handle is (nan, 1.0)"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1, 1], "target": [2, Infinity]}]}', "finite"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1, "2"], "target": [2, 2]}]}', "not a number"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1, true], "target": [2, 2]}]}', "not a number"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1, 2, 3], "target": [2, 2]}]}', "must be [x, y]"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [8, 1], "target": [2, 2]}]}', "pair 1 handle (8, 1) lies outside the 8×8 image"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1, 1], "target": [2, -0.5]}]}', "pair 1 target (2, -0.5) lies outside"),
        ('{"width": 0, "height": 8, "pairs": [{"handle": [1, 1], "target": [2, 2]}]}', "width must be a whole number of pixels from 1 to 65536"),
        ('{"width": 8.5, "height": 8, "pairs": [{"handle": [1, 1], "target": [2, 2]}]}', "width must be a whole number of pixels"),
        # What used to surface as raw Python errors: an integer too large for a float (OverflowError),
        # a number with more digits than Python converts (ValueError), deeply nested JSON (RecursionError).
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1' + "0" * 400 + ', 1], "target": [2, 2]}]}', "pair 1 handle has a coordinate of 401 digits"),
        ('{"width": 8, "height": 8, "pairs": [{"handle": [1, 1], "target": [2, 2' + "0" * 5000 + ']}]}', "has a value that cannot be read"),
        ('{"width": 1' + "0" * 5000 + ', "height": 8, "pairs": []}', "has a value that cannot be read"),
        ('{"width": 1' + "0" * 300 + ', "height": 8, "pairs": [{"handle": [1, 1], "target": [2, 2]}]}', "got a number of 301 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"pairs": ' + "[" * 50_000 + "]" * 50_000 + "}", "nested too deeply"),
    ],
)
def test_bad_json_gets_a_clear_error(text, fragment):
    with pytest.raises(DragInputError) as info:
        DragPoints.from_json(text, width=8, height=8)
    assert fragment in str(info.value)
    assert str(info.value).startswith("points")


def test_document_without_size_is_refused_when_the_caller_has_none():
    with pytest.raises(DragInputError, match="carries no image size"):
        DragPoints.from_json("[[1, 1], [2, 2]]")
    with pytest.raises(DragInputError, match="gives no image 'width' and 'height'"):
        DragPoints.from_json('{"pairs": [{"handle": [1, 1], "target": [2, 2]}]}')


def test_constructor_validates_too():
    with pytest.raises(DragInputError, match="every handle needs a target"):
        DragPoints(((1.0, 1.0), (2.0, 2.0)), ((3.0, 3.0),), 8, 8)
    with pytest.raises(DragInputError, match="finite"):
        DragPoints.from_pairs([((math.inf, 1), (2, 2))], 8, 8)


def test_check_size_names_both_sizes_and_the_input():
    p = DragPoints.from_pairs([((1, 1), (2, 2))], 512, 512)
    p.check_size(512, 512, "the mask")
    with pytest.raises(DragInputError, match=r"placed on a 512×512 image but the mask is 768×512"):
        p.check_size(768, 512, "the mask")

