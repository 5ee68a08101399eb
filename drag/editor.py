"""What the DragPointsEditor node outputs for its inputs.

The points document may carry the canvas's mask edits (``"mask": {"runs": [value, count, ...]}``, a
run-length code over the image's pixels in raster order: 0 = untouched, 1 = painted in, 2 = erased;
written by ``js/lib/mask.js``). They refine the connected MASK; without one, the painted pixels are the
editable region. With neither, the whole image is editable.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .checks import as_mask_batch, check_mask_fits
from .errors import DragInputError
from .fastdrag.image_space import edit_region
from .points import DragPoints, read_document
from .prompt_graph import bypassed_resize, warps_fed_by

UNTOUCHED, PAINTED, ERASED = 0, 1, 2


def mask_edits(doc: Any, width: int, height: int) -> Tensor | None:
    """The canvas's mask edits in the parsed points document ``doc`` as [height, width] uint8 (0/1/2),
    or None if there are none."""
    if not isinstance(doc, dict) or not doc.get("mask"):
        return None
    runs = doc["mask"].get("runs") if isinstance(doc["mask"], dict) else None
    if not isinstance(runs, list) or len(runs) % 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in runs):
        raise DragInputError("points: the painted mask ('mask': {'runs': [...]}) is malformed; clear the mask in the editor and paint it again.")
    values, counts = runs[0::2], runs[1::2]
    covered = sum(c for c in counts if c > 0)
    if not runs or any(v not in (UNTOUCHED, PAINTED, ERASED) for v in values) or any(c <= 0 for c in counts) or covered != width * height:
        shown = f"{covered} pixels" if covered < 10**12 else "a pixel count far beyond any image"
        raise DragInputError(
            f"points: the painted mask does not cover the {width}×{height} image ({shown}); "
            "clear the mask in the editor and paint it again."
        )
    return torch.repeat_interleave(torch.tensor(values, dtype=torch.uint8), torch.tensor(counts)).view(height, width)


def edit_runs(edits: Tensor) -> list[int]:
    """``edits`` ([height, width] of 0/1/2, see mask_edits) as the document's ``runs``: [value, count, ...]
    in raster order (mask_edits' inverse)."""
    flat = edits.reshape(-1).to(torch.int64)
    starts = torch.cat([torch.tensor([0]), torch.nonzero(flat[1:] != flat[:-1]).reshape(-1) + 1])
    counts = torch.diff(torch.cat([starts, torch.tensor([flat.numel()])]))
    return torch.stack([flat[starts], counts], dim=1).reshape(-1).tolist()


def editor_outputs(image: Tensor, points_json: str, mask: Tensor | None) -> tuple[DragPoints, Tensor]:
    """Parse the points placed on ``image`` ([B, H, W, C]) and pick the editable-region MASK.

    The points must refer to the image's size. The mask is the connected one ([B or 1, H, W], checked
    against the image) refined by the canvas's edits; without a connected mask the painted region, or
    all ones ([1, H, W]: everything editable) when nothing was painted either.
    """
    batch, height, width = image.shape[:3]
    doc = read_document(points_json)
    points = DragPoints.from_document(doc, width=width, height=height)
    points.check_size(width, height, "the image")
    edits = mask_edits(doc, width, height)
    if mask is None:
        if edits is None:
            return points, torch.ones((1, height, width), dtype=torch.float32)
        return points, (edits == PAINTED).float()[None]
    mask = as_mask_batch(mask)
    check_mask_fits(mask, points, batch)
    if edits is not None:
        edits = edits.to(mask.device)  # the painting comes from the document; the mask may be on the GPU (--gpu-only)
        mask = torch.where(edits == PAINTED, 1.0, torch.where(edits == ERASED, 0.0, mask.float()))
    return points, mask


def check_workflow(prompt: dict, editor_id: str, points: DragPoints, mask: Tensor) -> None:
    """Refuse, at the editor, what a later node of the workflow (``prompt``, API format) would refuse only
    after the VAE encode and the inversion: an encoder fed from before a resize that only the editor's image
    goes through, and a drag that a FastDragWarp taking these points (and the editor's ``mask``, or none)
    refuses. ``editor_id``: the editor's node id in ``prompt``."""
    problem = bypassed_resize(prompt, editor_id)
    if problem:
        raise DragInputError(problem)
    for warp_id, masked in warps_fed_by(prompt, editor_id):
        try:
            edit_region(mask if masked else None, points)
        except DragInputError as error:
            raise DragInputError(
                f"{error} (FastDragWarp, node {warp_id}, takes these points; the editor checks them before the "
                "encode and inversion run.)"
            ) from None
