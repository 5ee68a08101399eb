"""Drag-based image editing for ComfyUI: LightningDrag and FastDrag nodes.

ComfyUI imports this folder as a package and calls :func:`comfy_entrypoint` (V3 node API). The node
modules import ComfyUI's API, so they are imported only there; the method code in ``drag/`` imports
without ComfyUI (tests load it that way). ``WEB_DIRECTORY`` holds the points editor's canvas.
"""

import logging

WEB_DIRECTORY = "./js"

OLDEST_TESTED_COMFYUI = "0.3.64"
NEWEST_TESTED_COMFYUI = "0.33.0"


def version_tuple(version: str) -> tuple[int, ...]:
    """``"0.3.64"`` → ``(0, 3, 64)``; a part counts by its leading digits (``"0rc1"`` → 0)."""
    parts = []
    for part in version.strip().lstrip("v").split("."):
        digits = part[: len(part) - len(part.lstrip("0123456789"))]
        parts.append(int(digits or 0))
    return tuple(parts)


def warn_if_untested_comfyui(version: str | None) -> bool:
    """Log one warning when ``version`` (ComfyUI's ``comfyui_version.__version__``; "" for a ComfyUI without
    that file) is older than the oldest ComfyUI the pack is tested on; None means not inside ComfyUI.
    Returns whether it warned."""
    if version is None or (version and version_tuple(version) >= version_tuple(OLDEST_TESTED_COMFYUI)):
        return False
    logging.warning(
        f"[drag editing] ComfyUI {version or '(a version without comfyui_version.py)'} is older than the oldest "
        f"version this node pack is tested on ({OLDEST_TESTED_COMFYUI}; newest tested {NEWEST_TESTED_COMFYUI}). "
        "Its nodes may fail; update ComfyUI."
    )
    return True


def _comfyui_version() -> str | None:
    try:
        from comfyui_version import __version__
    except ImportError:
        from importlib.util import find_spec

        return "" if find_spec("comfy") is not None else None  # ComfyUI older than its version file, or no ComfyUI
    return __version__


warn_if_untested_comfyui(_comfyui_version())


async def comfy_entrypoint():
    from .nodes import DragEditingExtension

    return DragEditingExtension()
