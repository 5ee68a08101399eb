"""The ComfyUI nodes of the pack (V3 API). Thin: they validate inputs and call the code in ``drag/``."""

from typing_extensions import override

from comfy_api.v0_0_2 import ComfyExtension, io

from .fastdrag_diffusion import FastDragConsistency, FastDragInvert, FastDragKSampler
from .fastdrag_latent import BNNI, FastDragWarp
from .image_scale import DragImageScale
from .lightningdrag import AppearanceEncode, DragKSampler, LoadLightningDrag, PointEmbed
from .lightningdrag_models import register_folders
from .points_editor import DragPointsEditor


class DragEditingExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        register_folders()
        return [
            DragImageScale, DragPointsEditor, FastDragInvert, FastDragWarp, BNNI, FastDragKSampler, FastDragConsistency,
            LoadLightningDrag, AppearanceEncode, PointEmbed, DragKSampler,
        ]
