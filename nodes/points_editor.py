"""DragPointsEditor: turns the points JSON (edited in the node) into DRAG_POINTS for one image."""

from __future__ import annotations

import torch
from comfy_api.v0_0_2 import io

from ..drag.editor import editor_outputs
from .types import CATEGORY, DragPoints as DragPointsType

EMPTY_POINTS = '{"pairs": []}'


class DragPointsEditor(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="DragPointsEditor",
            display_name="Drag Points Editor",
            category=CATEGORY,
            description=(
                "Handle → target pairs for drag editing, placed on the input image. The content under each "
                "handle moves to its target. Also passes the image and an editable-region mask on."
            ),
            inputs=[
                io.Image.Input("image", tooltip="The image the points are placed on (the image to edit)."),
                io.String.Input(
                    "points",
                    multiline=True,
                    default=EMPTY_POINTS,
                    tooltip=(
                        "Drag pairs as JSON in image pixels (x right, y down from the top-left corner): "
                        '{"width": W, "height": H, "pairs": [{"handle": [x, y], "target": [x, y]}]}. '
                        "width/height may be left out (the image's size is used). A list of "
                        '[{"x": .., "y": ..}] points (handle, target, handle, target, ...) from other point '
                        "editors is read too."
                    ),
                ),
                io.Mask.Input(
                    "mask",
                    optional=True,
                    tooltip="Region allowed to change (1 = editable), at the image's size. Without it, the whole image is editable.",
                ),
            ],
            outputs=[
                io.Image.Output("image_out", display_name="image", tooltip="The input image, unchanged."),
                DragPointsType.Output("drag_points", display_name="points", tooltip="The drag pairs, for FastDragWarp, PointEmbed and other drag nodes."),
                io.Mask.Output("edit_mask", display_name="mask", tooltip="The editable region: the connected mask, or all ones when none is connected."),
            ],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, points: str, mask: torch.Tensor | None = None) -> io.NodeOutput:
        drag_points, mask = editor_outputs(image, points, mask)
        return io.NodeOutput(image, drag_points, mask)
