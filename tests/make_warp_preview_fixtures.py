"""Write tests/fixtures/warp_preview.json: FastDragWarp's latent regions and relocation source maps, computed
by the node's own code (drag/fastdrag), for the canvas preview to reproduce (js/tests/warp_preview.test.mjs).

Run ``python tests/make_warp_preview_fixtures.py`` after changing the warp; tests/test_warp_preview_fixtures.py
fails while the file is out of date. Masks and latent regions are run-length coded over pixels in raster order
(``[value, count, ...]``); a map lists only the latent pixels whose source is not themselves, as
``[index, source]`` (source -1 = hole).

The maps are discrete, but they come from float32 vectors that vectorised kernels round differently on
each instruction set (a few ulps; see tests/fastdrag/test_reference_cases.py). A latent pixel whose
destination lies within that of a rounding boundary (or, with ``nearest_handle``, whose two nearest
handles are that close to a tie) may land elsewhere on another machine: such pixels are listed as
``borderline`` ``[index, destination]`` (flat latent indices, raster order). The tests rebuild the map
with the fixture's destinations for those pixels and their own for every other, and require it to
equal ``moved`` exactly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

if __name__ == "__main__":
    import conftest  # noqa: F401  (loads the pack as the tests do)

import torch

from helpers import runs
from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.fastdrag.to_latent import mask_to_latent, points_to_latent
from drag_editing_dev.drag.fastdrag.warp import (
    check_handles_in_circle,
    destinations,
    mask_circle,
    source_map,
    warp_vectors,
)
from drag_editing_dev.drag.points import DragPoints

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "warp_preview.json"

BORDERLINE_ULPS = 16
"""How far (in float32 ulps of the values involved) from a rounding boundary or a tie a pixel counts as
borderline: four times the largest difference between instruction sets seen in the warp vectors."""


def _rectangle(width: int, height: int, x0: int, y0: int, x1: int, y1: int) -> torch.Tensor:
    mask = torch.zeros(height, width)
    mask[y0:y1, x0:x1] = 1
    return mask


def _disc(width: int, height: int, cx: float, cy: float, r: float) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return (((xs - cx) ** 2 + (ys - cy) ** 2) <= r * r).float()


def _drags(count: int, width: int, height: int, seed: int) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    g = torch.Generator().manual_seed(seed)
    pairs = []
    for _ in range(count):
        hx, hy = (0.3 + 0.4 * torch.rand(2, generator=g)).tolist()
        dx, dy = (0.2 * torch.rand(2, generator=g) - 0.1).tolist()
        pairs.append(((round(hx * width, 2), round(hy * height, 2)), (round((hx + dx) * width, 2), round((hy + dy) * height, 2))))
    return pairs


def cases() -> list[dict]:
    """(name, width, height, pairs, mask or None, aggregation) of every fixture case."""
    specs = [
        ("one drag, rectangle", 256, 192, [((80, 90), (130, 100))], _rectangle(256, 192, 40, 40, 200, 160)),
        ("three drags, disc, non-square", 200, 328, _drags(3, 200, 328, 1), _disc(200, 328, 100, 160, 90)),
        ("six drags, whole image", 512, 384, _drags(6, 512, 384, 2), None),
        ("five drags, rectangle", 320, 256, _drags(5, 320, 256, 3), _rectangle(320, 256, 30, 20, 300, 240)),
        ("four drags, tall", 136, 400, _drags(4, 136, 400, 4), _rectangle(136, 400, 8, 30, 128, 380)),
        ("handles on grid points", 256, 256, [((64, 64), (96, 72)), ((160, 128), (150, 160))], _rectangle(256, 256, 16, 16, 240, 240)),
        ("opposing drags", 256, 192, [((90, 96), (130, 96)), ((170, 96), (130, 96))], _rectangle(256, 192, 20, 30, 236, 170)),
        ("size not a multiple of 8", 203, 157, _drags(2, 203, 157, 5), _rectangle(203, 157, 21, 13, 187, 141)),
        ("thin mask", 256, 192, [((100, 97), (140, 99))], _rectangle(256, 192, 30, 93, 230, 101)),
        ("handle outside the circle", 256, 192, [((120, 96), (140, 96)), ((250, 10), (240, 20))], _rectangle(256, 192, 100, 80, 160, 120)),
        ("SDXL square, rectangle", 1024, 1024, _drags(5, 1024, 1024, 6), _rectangle(1024, 1024, 203, 157, 861, 899)),
        ("SDXL landscape, disc", 1216, 832, _drags(3, 1216, 832, 9), _disc(1216, 832, 611, 413.5, 350)),
    ]
    out = []
    for name, width, height, pairs, mask in specs:
        for aggregation in ("inverse_distance", "nearest_handle"):
            out.append(dict(name=name, width=width, height=height, pairs=pairs, mask=mask, aggregation=aggregation))
    return out


def compute(case: dict) -> dict:
    width, height = case["width"], case["height"]
    points = DragPoints.from_pairs(case["pairs"], width, height)
    mask = case["mask"]
    region = mask_to_latent(mask[None])[0] if mask is not None else torch.ones(height // 8, width // 8, dtype=torch.bool)
    handles, targets = points_to_latent(points)
    entry = {
        "name": case["name"], "width": width, "height": height, "aggregation": case["aggregation"],
        "pairs": [{"handle": list(h), "target": list(t)} for h, t in case["pairs"]],
        "mask": runs(mask) if mask is not None else None,
        "latent": list(region.shape), "region": runs(region),
        "handles": handles.tolist(), "targets": targets.tolist(),
    }
    try:
        src, borderline = relocation(region, handles, targets, case["aggregation"])
    except DragInputError as error:
        entry["outside_pair"] = int(re.search(r"pair (\d+)", str(error)).group(1)) - 1
        return entry
    src = src.flatten()
    moved = (src != torch.arange(src.numel())).nonzero()[:, 0]
    entry["moved"] = [[int(i), int(src[i])] for i in moved]
    entry["borderline"] = borderline
    return entry


def relocation(region: torch.Tensor, handles: torch.Tensor, targets: torch.Tensor, aggregation: str,
               borderline_dest: list[list[int]] = ()) -> tuple[torch.Tensor, list[list[int]]]:
    """FastDragWarp's source map ([h, w] int64, as ``relocation_map``) and its borderline pixels
    (``[[index, destination], ...]``, flat). ``borderline_dest`` replaces the destinations of those pixels
    (a fixture's, from another machine) before the map is built."""
    h, w = region.shape
    center, radius = mask_circle(region)
    check_handles_in_circle(handles, center, radius)
    pixels = torch.nonzero(region)
    vectors = warp_vectors(pixels, handles, targets, center, radius, aggregation)
    dest, valid = destinations(pixels, vectors, h, w)
    ulp = torch.finfo(torch.float32).eps * BORDERLINE_ULPS
    landing = pixels + vectors
    near = ((landing - landing.floor() - 0.5).abs() <= ulp * (landing.abs() + vectors.abs())).any(dim=1)
    if aggregation == "nearest_handle" and len(handles) > 1:
        distance = torch.linalg.vector_norm(pixels[:, None] - handles[None], dim=-1).sort(dim=1).values
        near |= distance[:, 1] - distance[:, 0] <= ulp * distance[:, 1]
    near &= valid
    flat = pixels[:, 0] * w + pixels[:, 1]
    listed = [[int(flat[n]), int(dest[n, 0] * w + dest[n, 1])] for n in near.nonzero()[:, 0]]
    position = {int(i): n for n, i in enumerate(flat.tolist())}
    for index, d in borderline_dest:
        dest[position[index]] = torch.tensor([d // w, d % w])
    return source_map(region, pixels, dest, valid), listed


def fixture_text() -> str:
    return json.dumps({"cases": [compute(c) for c in cases()]}, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    FIXTURE.write_text(fixture_text())
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size / 1024:.0f} KiB)")
