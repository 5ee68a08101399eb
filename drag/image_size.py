"""The working size a drag method runs at, from a photo's size: what the official demos resize an upload to.

Sizes are in image pixels, (width, height). The official LightningDrag demo keeps the aspect ratio at an
area of 512² with each side rounded to a multiple of 64 (``ui_utils.store_img``); the official FastDrag demo
scales to a width of 512 with the aspect ratio kept. Latent methods need sides in multiples of 8 (SD's VAE)
or 64 (LightningDrag's point pyramid), so every side here is rounded to ``multiple``.
"""

from __future__ import annotations

import math

from .errors import DragInputError

FITS = ("area", "width", "keep")


def working_size(width: int, height: int, size: int, fit: str, multiple: int) -> tuple[int, int]:
    """(width, height) for an image of ``width`` × ``height`` pixels.

    ``fit="area"``: the area is ``size``², each side scaled by ``sqrt(size² / (width·height))`` and rounded half
    to even to a multiple of ``multiple`` (the LightningDrag demo's rule, bit for bit at ``size=512, multiple=64``).
    ``fit="width"``: the width is ``size`` and the height keeps the aspect ratio (the FastDrag demo's rule), both
    rounded to a multiple of ``multiple`` (the demo floors the height and never rounds it). ``fit="keep"``: the
    image's own sides rounded to a multiple of ``multiple`` (``size`` unused), for an image already sized. No
    side is below ``multiple``."""
    if width < 1 or height < 1:
        raise DragInputError(f"image: the image is {width}×{height} pixels; it needs at least one pixel each way.")
    if fit == "area":
        coef = math.sqrt(size * size / (width * height))
        sides = (width * coef, height * coef)
    elif fit == "width":
        sides = (size, size * height / width)
    elif fit == "keep":
        sides = (width, height)
    else:
        raise DragInputError(f"fit: {fit!r} is not one of {', '.join(FITS)}.")
    scaled = tuple(max(1, round(side / multiple)) * multiple for side in sides)
    return scaled[0], scaled[1]
