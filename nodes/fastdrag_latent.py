"""FastDragWarp and BNNI: FastDrag's latent operations on ComfyUI LATENTs."""

from __future__ import annotations

import torch
from comfy_api.v0_0_2 import io

from ..drag.fastdrag.image_space import fill_holes, warp_latent
from ..drag.fastdrag.warp import AGGREGATIONS, HOLE_FILLS
from ..drag.points import DragPoints
from .types import CATEGORY, DragPoints as DragPointsType, search_aliases


class FastDragWarp(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FastDragWarp",
            **search_aliases("FastDrag", "warp latent", "latent warpage"),
            display_name="FastDrag Warp",
            category=f"{CATEGORY}/FastDrag",
            description=(
                "FastDrag's one-step latent warpage (NeurIPS 2024): stretches the masked latent so that the "
                "content under each handle moves to its target. Leaves holes where nothing landed; fill them "
                "with BNNI."
            ),
            inputs=[
                io.Latent.Input("latent", tooltip="The latent to warp: in FastDrag, the inverted (noisy) latent of the source image."),
                DragPointsType.Input("points", tooltip="Handle → target pairs placed on the source image."),
                io.Mask.Input(
                    "mask",
                    optional=True,
                    tooltip=(
                        "Region that may move (any value > 0), at the image's size. Without it, the whole image "
                        "may move. Every handle must lie inside the circle around the mask's bounding box."
                    ),
                ),
                io.Combo.Input(
                    "aggregation",
                    options=list(AGGREGATIONS),
                    default="inverse_distance",
                    tooltip=(
                        "How several drags combine at a pixel. inverse_distance: the paper's weighted mean "
                        "(1 / distance to each handle). nearest_handle: only the nearest handle's drag applies "
                        "(not in the paper; keeps opposing drags from cancelling)."
                    ),
                ),
                io.Combo.Input(
                    "hole_fill",
                    options=list(HOLE_FILLS),
                    default="zero",
                    tooltip=(
                        "What holes hold before filling: zero (official '0' and the input of BNNI), original "
                        "(official 'ori': the value before warping), random (official 'random': uniform 0-1 noise, fixed seed)."
                    ),
                ),
            ],
            outputs=[
                io.Latent.Output("warped", display_name="latent", tooltip="The warped latent."),
                io.Mask.Output("holes", display_name="holes", tooltip="Pixels that received no value (1 = hole), at image size; connect it to BNNI."),
            ],
        )

    @classmethod
    def execute(
        cls,
        latent: dict,
        points: DragPoints,
        mask: torch.Tensor | None = None,
        aggregation: str = "inverse_distance",
        hole_fill: str = "zero",
    ) -> io.NodeOutput:
        warped, holes = warp_latent(latent["samples"], points, mask, aggregation=aggregation, hole_fill=hole_fill)
        return io.NodeOutput({**latent, "samples": warped}, holes)


class BNNI(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="BNNI",
            **search_aliases("FastDrag", "fill holes", "nearest neighbour interpolation"),
            display_name="BNNI (fill latent holes)",
            category=f"{CATEGORY}/FastDrag",
            description=(
                "FastDrag's bilateral nearest-neighbour interpolation: fills each hole with the 1/distance-weighted "
                "mean of the nearest values to its left, right, above and below, in raster order, exactly as the "
                "official code does."
            ),
            inputs=[
                io.Latent.Input("latent", tooltip="The latent with holes, e.g. from FastDragWarp."),
                io.Mask.Input(
                    "holes",
                    tooltip=(
                        "Pixels to fill (1 = hole): FastDragWarp's holes output, or any mask. At latent size it is "
                        "used as is; at another size a latent pixel is a hole when at least half of its area is."
                    ),
                ),
            ],
            outputs=[io.Latent.Output("filled", display_name="latent", tooltip="The latent with its holes filled.")],
        )

    @classmethod
    def execute(cls, latent: dict, holes: torch.Tensor) -> io.NodeOutput:
        return io.NodeOutput({**latent, "samples": fill_holes(latent["samples"], holes)})
