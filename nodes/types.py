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
