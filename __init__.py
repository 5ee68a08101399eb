"""Drag-based image editing for ComfyUI: LightningDrag and FastDrag nodes.

ComfyUI imports this folder as a package and calls :func:`comfy_entrypoint` (V3 node API). The node
modules import ComfyUI's API, so they are imported only there; the method code in ``drag/`` imports
without ComfyUI (tests load it that way). ``WEB_DIRECTORY`` holds the points editor's canvas.
"""

WEB_DIRECTORY = "./js"


async def comfy_entrypoint():
    from .nodes import DragEditingExtension

    return DragEditingExtension()
