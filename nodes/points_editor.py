"""DragPointsEditor: turns the points document (edited on the node's canvas, js/) into DRAG_POINTS and a MASK.

After a run it sends the canvas the image (``drag_source``) and, when a mask is connected, that mask
(``drag_mask``), as temporary previews, so the canvas shows what the node worked on. Points it cannot
use (none yet, a handle without its target, another image size), and a workflow that would refuse them only
after the encode and inversion (``drag.editor.check_workflow``), raise one DragInputError on this node."""

from __future__ import annotations

import logging

import torch
from comfy_api.v0_0_2 import io, ui

from ..drag.editor import check_workflow, editor_outputs
from .types import CATEGORY, DragPoints as DragPointsType, search_aliases

EMPTY_POINTS = '{"pairs": []}'


class DragPointsEditor(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="DragPointsEditor",
            **search_aliases("points editor", "place points", "drag arrows", "paint mask"),
            display_name="Drag Points Editor",
            category=CATEGORY,
            # check_workflow reads the queued workflow.
            hidden=[io.Hidden.prompt, io.Hidden.unique_id],
            description=(
                "Handle → target pairs for drag editing, placed on the input image, and the region allowed to "
                "change, painted on it. The content under each handle moves to its target."
            ),
            inputs=[
                io.Image.Input("image", tooltip="The image the points are placed on (the image to edit)."),
                io.String.Input(
                    "points",
                    multiline=True,
                    default=EMPTY_POINTS,
                    tooltip=(
                        "The drag pairs (and painted mask) that the canvas edits, as JSON in image pixels (x right, "
                        'y down from the top-left corner): {"width": W, "height": H, "pairs": [{"handle": [x, y], '
                        '"target": [x, y]}]}. It can be typed too; width/height may be left out. A list of '
                        '[{"x": .., "y": ..}] points (handle, target, ...) from other point editors is read as well.'
                    ),
                ),
                io.Mask.Input(
                    "mask",
                    optional=True,
                    tooltip=(
                        "Region allowed to change (1 = editable), at the image's size; painting on the canvas refines it. "
                        "Without it, the painted region is editable, or the whole image when nothing is painted."
                    ),
                ),
            ],
            outputs=[
                io.Image.Output("image_out", display_name="image", tooltip="The input image, unchanged."),
                DragPointsType.Output("drag_points", display_name="points", tooltip="The drag pairs, for FastDragWarp, PointEmbed and other drag nodes."),
                io.Mask.Output(
                    "edit_mask", display_name="mask",
                    tooltip="The editable region: the connected mask refined by the painting, or the painting alone, or all ones.",
                ),
            ],
        )

    @classmethod
    async def execute(cls, image: torch.Tensor, points: str, mask: torch.Tensor | None = None) -> io.NodeOutput:
        # Async only for ComfyUI's order: of the nodes ready to run it runs an async one first, so the editor
        # runs as soon as its image is ready, ahead of encoders that are ready too, and check_workflow's
        # refusals cost no model work. (An output node would run first as well, but then a prompt with an
        # invalid node elsewhere would still be queued to run the editor alone.)
        drag_points, edit_mask = editor_outputs(image, points, mask)
        if cls.hidden.prompt and cls.hidden.unique_id in cls.hidden.prompt:
            check_workflow(cls.hidden.prompt, cls.hidden.unique_id, drag_points, edit_mask)
        return io.NodeOutput(image, drag_points, edit_mask, ui=cls._previews(image, mask))

    @classmethod
    def _previews(cls, image: torch.Tensor, mask: torch.Tensor | None) -> dict | None:
        """The canvas's copies of the image and mask, written to ComfyUI's temp folder. Only the canvas
        needs them, so a temp folder that cannot be written (read-only, full) costs the canvas its
        picture, with a warning, and never the edit."""
        try:
            shown = {"drag_source": ui.PreviewImage(image[:1], cls=cls).values}
            if mask is not None:
                shown["drag_mask"] = ui.PreviewMask(mask[:1], cls=cls).values
        except OSError as error:
            logging.warning(
                f"DragPointsEditor: could not write the canvas's copy of the image to ComfyUI's temp folder ({error}); "
                "the edit goes on, but the canvas cannot show the image this run worked on."
            )
            return None
        return shown
