"""DragImageScale: a photo scaled once to the size its drag method works at, for the editor and every encoder."""

from __future__ import annotations

import comfy.utils
import torch
from comfy_api.v0_0_2 import io

from ..drag.image_size import FITS, working_size
from .types import CATEGORY, search_aliases

METHODS = ("lanczos", "bilinear", "bicubic", "area", "nearest-exact")


class DragImageScale(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="DragImageScale",
            **search_aliases("resize", "scale image", "resize image", "working size"),
            display_name="Scale Image for Drag",
            category=CATEGORY,
            description=(
                "Scales a photo to the size its model works at, keeping the aspect ratio, as the official demos do: "
                "LightningDrag at an area of 512² with sides in multiples of 64, FastDrag at a width of 512. Feed the "
                "points editor and every encoder from it."
            ),
            inputs=[
                io.Image.Input("image", tooltip="The photo to edit, at any size."),
                io.Combo.Input(
                    "fit",
                    options=list(FITS),
                    default="area",
                    tooltip=(
                        "area: the result's area is size² (the LightningDrag demo; right for SDXL at 1024). width: the "
                        "result is size pixels wide (the FastDrag demo). keep: the image's own size, each side rounded "
                        "to multiple_of (for an image already sized)."
                    ),
                ),
                io.Int.Input(
                    "size",
                    default=512,
                    min=64,
                    max=4096,
                    step=8,
                    tooltip="512 for SD1.5 and SD2-512 models, 768 for SD2-768-v, 1024 for SDXL.",
                ),
                io.Int.Input(
                    "multiple_of",
                    default=64,
                    min=8,
                    max=128,
                    step=8,
                    tooltip="Each side is rounded to a multiple of this: 64 for LightningDrag (its point pyramid needs it), 8 at least for any latent model.",
                ),
                io.Combo.Input(
                    "method",
                    options=list(METHODS),
                    default="lanczos",
                    tooltip="The resampling filter: lanczos as the LightningDrag demo, bilinear as the FastDrag demo.",
                ),
            ],
            outputs=[
                io.Image.Output("scaled", display_name="image", tooltip="The scaled image (unchanged when it already has the working size)."),
                io.Int.Output("width", display_name="width", tooltip="Its width in pixels."),
                io.Int.Output("height", display_name="height", tooltip="Its height in pixels."),
            ],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, fit: str, size: int, multiple_of: int, method: str) -> io.NodeOutput:
        width, height = working_size(image.shape[2], image.shape[1], size, fit, multiple_of)
        if (width, height) != (image.shape[2], image.shape[1]):
            image = comfy.utils.common_upscale(image.movedim(-1, 1), width, height, method, "disabled").movedim(1, -1)
        return io.NodeOutput(image, width, height)
