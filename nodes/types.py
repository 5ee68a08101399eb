"""The pack's custom ComfyUI types. Type strings are plain strings, so other packs can use them too."""

from comfy_api.v0_0_2 import io

DragPoints = io.Custom("DRAG_POINTS")
"""A :class:`drag.points.DragPoints`: handle → target pairs in image pixels (x, y) and the image size."""

CATEGORY = "drag editing"

DragKV = io.Custom("DRAG_KV")
"""A :class:`drag.fastdrag.kv.DragKV`: FastDrag's self-attention record from inversion, with its schedule."""

LightningDrag = io.Custom("LIGHTNING_DRAG")
"""A :class:`nodes.lightningdrag_models.LightningDragModels`: the loaded LightningDrag release and IP-Adapter."""

DragAppearance = io.Custom("DRAG_APPEARANCE")
"""A :class:`drag.lightningdrag.attention.AppearanceBank`: the appearance encoder's bank for one source latent."""

DragPointEmbeds = io.Custom("DRAG_POINT_EMBEDS")
"""A :class:`drag.lightningdrag.attention.PointEmbeds`: multi-scale handle/target embeddings of drag points."""


DRAG_WORDS = ("drag", "drag editing", "move object", "move points", "handle target", "DragGAN", "DragDiffusion")
"""What users type into node search for drag editing, beside the nodes' own names."""


def search_aliases(*words: str) -> dict:
    """``io.Schema`` keyword arguments that make node search find a node by ``words`` as well as
    :data:`DRAG_WORDS`; empty on a ComfyUI whose schema has no ``search_aliases`` (0.3.64 has none)."""
    if "search_aliases" not in getattr(io.Schema, "__dataclass_fields__", {}):
        return {}
    return {"search_aliases": [*DRAG_WORDS, *words]}
