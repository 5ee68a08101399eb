"""The working size (drag/image_size.py): the official demos' resize rules, rounded to the method's multiple."""

import numpy as np
import pytest

from helpers import error_of
from drag_editing_dev.drag.image_size import working_size


def _lightningdrag_demo(width: int, height: int) -> tuple[int, int]:
    """The LightningDrag demo's rule as its paper code states it: area 512², each side rounded (numpy, half to
    even) to a multiple of 64."""
    coef = np.sqrt(512 * 512 / (height * width))
    return int(np.round(width * coef / 64.0)) * 64, int(np.round(height * coef / 64.0)) * 64


@pytest.mark.parametrize("width", [64, 333, 512, 640, 768, 1000, 1920, 2048, 3024, 4000, 6000])
@pytest.mark.parametrize("height", [64, 200, 480, 512, 768, 1080, 3000, 4032])
def test_area_fit_is_the_lightningdrag_demo_rule(width, height):
    expected = _lightningdrag_demo(width, height)
    if min(expected) == 0:  # the demo would make an empty side; ours keeps one multiple
        expected = tuple(max(side, 64) for side in expected)
    assert working_size(width, height, 512, "area", 64) == expected


def test_phone_photos_come_to_the_sizes_a_user_expects():
    assert working_size(4000, 3000, 512, "area", 64) == (576, 448)  # LightningDrag, SD1.5
    assert working_size(4000, 3000, 512, "width", 8) == (512, 384)  # FastDrag demo, SD1.5
    assert working_size(3000, 4000, 512, "width", 8) == (512, 680)  # portrait: 682.7 rounds to 680
    assert working_size(4000, 3000, 1024, "area", 64) == (1152, 896)  # SDXL, about 1 MP
    assert working_size(4000, 3000, 768, "area", 8) == (888, 664)  # SD2-768-v
    assert working_size(512, 512, 512, "area", 64) == (512, 512)
    assert working_size(130, 96, 512, "keep", 8) == (128, 96)  # an image already sized: only rounded


def test_no_side_is_below_the_multiple_and_bad_sizes_are_named():
    assert working_size(10000, 10, 512, "area", 64) == (16192, 64)
    assert error_of(working_size, 0, 10, 512, "area", 64).startswith("image: the image is 0×10 pixels")
    assert error_of(working_size, 10, 10, 512, "height", 64).startswith("fit: 'height' is not one of area, width, keep")
