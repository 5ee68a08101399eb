"""What the points editor reads of the workflow it runs in, to refuse a mis-wired edit before any model work.

ComfyUI hands a node the whole queued workflow in API format (``PROMPT``): node id → ``{"class_type": ...,
"inputs": {name: value or [node id, output index]}}``; a list value is a link. Nothing here imports ComfyUI.
The editor runs as soon as its image is ready (its execute is async, which ComfyUI runs first of the nodes
ready together), so what it refuses costs no VAE encode and no inversion in the usual wiring.
"""

from __future__ import annotations

from collections import deque

Link = tuple[str, int]

IMAGE_INPUTS = ("image", "images", "pixels")
RESIZING_WORDS = ("scale", "resize", "crop")
"""A node whose class name holds one of these changes an image's size (ImageScale, ImageScaleBy,
ImageScaleToTotalPixels, ImageUpscaleWithModel, ImageCrop, DragImageScale, other packs' "Image Resize"
nodes, ...)."""
POINTS_OUTPUT, MASK_OUTPUT = 1, 2
"""The editor's outputs: image (0), points, mask."""
ENCODERS = {"VAEEncode": "pixels", "VAEEncodeTiled": "pixels", "VAEEncodeForInpaint": "pixels",
            "InpaintModelConditioning": "pixels", "DragKSampler": "image"}
"""Nodes whose image input must be the image the points were placed on, with that input's name."""


def link_of(value: object) -> Link | None:
    """The (node id, output index) an API-format input ``value`` is wired to, or None for a widget value."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
        return str(value[0]), value[1]
    return None


def _title(prompt: dict, node_id: str) -> str:
    return f"{prompt[node_id]['class_type']} (node {node_id})"


def _image_source(node: dict) -> Link | None:
    """The link a node takes its image from: its first linked image input."""
    for name in IMAGE_INPUTS:
        link = link_of(node.get("inputs", {}).get(name))
        if link is not None:
            return link
    return None


def _users(prompt: dict) -> dict[str, list[str]]:
    """Node id → the ids of the nodes that take one of its outputs."""
    users: dict[str, list[str]] = {}
    for node_id, node in prompt.items():
        for value in node.get("inputs", {}).values():
            link = link_of(value)
            if link is not None:
                users.setdefault(link[0], []).append(node_id)
    return users


def _descendants(users: dict[str, list[str]], start: str) -> set[str]:
    """Every node that uses an output of ``start``, directly or further down (``users``: :func:`_users`)."""
    seen, queue = set(), deque([start])
    while queue:
        for user in users.get(queue.popleft(), ()):
            if user not in seen:
                seen.add(user)
                queue.append(user)
    return seen


def bypassed_resize(prompt: dict, editor_id: str) -> str | None:
    """The problem when a node of this edit encodes the image from before a resize that only the editor's
    image goes through (a scale wired in front of the editor alone): its latent would have another size
    than the image the points were placed on. None when there is none.

    The editor's image is followed upstream, node by node; above the first resizing node, an encoder
    (:data:`ENCODERS`) that takes one of those images and whose results meet the editor's somewhere
    downstream is the problem (an unrelated encode of the same photo elsewhere is left alone)."""
    editor_source = _image_source(prompt[editor_id])
    users = _users(prompt)
    edit = _descendants(users, editor_id)
    resizer, link, seen = None, editor_source, set()
    while link is not None and link[0] in prompt and link not in seen:
        seen.add(link)
        if resizer is not None:
            for node_id, node in prompt.items():
                name = ENCODERS.get(node.get("class_type"))
                if name and link_of(node.get("inputs", {}).get(name)) == link and edit & _descendants(users, node_id):
                    encoder = _title(prompt, node_id)
                    return (
                        f"image: the points are placed on the image that comes through {_title(prompt, resizer)}, but "
                        f"{encoder} takes its {name} from before it ({_title(prompt, link[0])}), so its latent would "
                        f"not match the points. Connect {encoder}'s {name} to the output of "
                        f"{_title(prompt, editor_source[0])}, the image the editor gets, or move the scale in front of "
                        "every node that takes the image."
                    )
        producer = prompt[link[0]]
        if resizer is None and any(word in producer["class_type"].lower() for word in RESIZING_WORDS):
            resizer = link[0]
        link = _image_source(producer)
    return None


def warps_fed_by(prompt: dict, editor_id: str) -> list[tuple[str, bool]]:
    """The FastDragWarp nodes that take the editor's points, each with whether its mask is the editor's
    mask (True) or absent (False); warps with a mask from elsewhere are left out (the editor cannot know it)."""
    found = []
    for node_id, node in prompt.items():
        inputs = node.get("inputs", {})
        if node.get("class_type") != "FastDragWarp" or link_of(inputs.get("points")) != (editor_id, POINTS_OUTPUT):
            continue
        mask = link_of(inputs.get("mask"))
        if mask is None or mask == (editor_id, MASK_OUTPUT):
            found.append((node_id, mask is not None))
    return found
