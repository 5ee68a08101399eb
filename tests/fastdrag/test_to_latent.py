"""The official mapping of image-space points and masks to the latent grid (drag/fastdrag/to_latent.py).

Besides a hand-worked 512-wide case, these check the mapping against the transcription of run_drag in
official.py at SDXL sizes, 1024 × 1024 (128² latents) and 1216 × 832 (152 × 104): every quarter-pixel
position on each axis plus sub-pixel canvas positions, and masks whose edges fall on every phase of
the 8-pixel latent cell.
"""

import pytest
import torch

from drag_editing_dev.drag.fastdrag.to_latent import mask_to_latent, points_to_latent
from drag_editing_dev.drag.points import DragPoints

from . import official as ref

SDXL_SIZES = [(1024, 1024), (1216, 832)]
SDXL_IDS = ["1024x1024", "1216x832"]


def test_points_map_through_the_half_resolution_grid_rounding_half_to_even():
    # x: 221 → 110.5 → 110 (even) → 27.5; 223 → 111.5 → 112 → 28.0. y on a 300-px-high image: int(150)
    # half rows, 101 → 50.5 → 50 → 12.5.
    points = DragPoints.from_pairs([((221, 101), (223, 101))], 512, 300)
    handles, targets = points_to_latent(points)
    assert handles.tolist() == [[12.5, 27.5]]
    assert targets.tolist() == [[12.5, 28.0]]


def test_points_round_in_float32_like_the_official_tensor():
    # At 1216 × 832, x / 1216 · 608 and y / 832 · 416 are not exact in double: x = 21 gives
    # 10.500000000000002, x = 87 gives 43.49999999999999, y = 15 gives 7.499999999999999. The official
    # code stores them in a float32 tensor first (10.5, 43.5, 7.5), then rounds half to even: 10, 44, 8.
    # Rounding the doubles would give 11, 43, 7.
    points = DragPoints.from_pairs([((21, 15), (87, 15))], 1216, 832)
    handles, targets = points_to_latent(points)
    assert handles.tolist() == [[2.0, 2.5]]
    assert targets.tolist() == [[2.0, 11.0]]


@pytest.mark.parametrize("width, height", SDXL_SIZES, ids=SDXL_IDS)
def test_points_match_the_official_mapping_at_sdxl_size(width, height):
    xs = torch.arange(0, width, 0.25).tolist()
    ys = torch.arange(0, height, 0.25).tolist()
    grid = [(xs[i % len(xs)], ys[i % len(ys)]) for i in range(max(len(xs), len(ys)))]
    g = torch.Generator().manual_seed(width)
    canvas = [(round(x, 2), round(y, 2)) for x, y in (torch.rand(1000, 2, generator=g) * torch.tensor([width, height])).tolist()]
    image_points = [p for p in grid + canvas if p[0] < width and p[1] < height]
    image_points = image_points[: len(image_points) // 2 * 2]
    points = DragPoints.from_pairs(list(zip(image_points[0::2], image_points[1::2])), width, height)
    handles, targets = points_to_latent(points)
    assert torch.equal(handles, ref.points_to_latent(image_points[0::2], width, height))
    assert torch.equal(targets, ref.points_to_latent(image_points[1::2], width, height))


def _masks(width: int, height: int) -> torch.Tensor:
    """Image masks [B, H, W]: rectangles with edges at every offset within a latent cell, a disc, sparse
    dots, and soft values (anything > 0 is masked)."""
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    masks = []
    for offset in range(8):
        rect = torch.zeros(height, width)
        rect[100 + offset : height - 93 - offset, 211 - offset : width - 120 + offset] = 1
        masks.append(rect)
    masks.append(((xs - width * 0.45) ** 2 + (ys - height * 0.55) ** 2 <= (0.35 * height) ** 2).float())
    g = torch.Generator().manual_seed(height)
    masks.append((torch.rand(height, width, generator=g) < 0.01).float())
    masks.append(torch.rand(height, width, generator=g) * (torch.rand(height, width, generator=g) < 0.05))
    return torch.stack(masks)


@pytest.mark.parametrize("width, height", SDXL_SIZES, ids=SDXL_IDS)
def test_masks_match_the_official_chain_at_sdxl_size(width, height):
    masks = _masks(width, height)
    region = mask_to_latent(masks)
    expected = torch.stack([ref.mask_to_latent(m) for m in masks])
    assert region.shape == (len(masks), height // 8, width // 8)
    assert torch.equal(region, expected)
    # The spec's rule (§1.4), which holds because both scale factors are exact (2, then 4): latent
    # pixel (i, j) is masked iff an image pixel in rows {8i+2, 8i+4} × columns {8j+2, 8j+4} is.
    m = masks > 0
    rule = m[:, 2::8, 2::8] | m[:, 2::8, 4::8] | m[:, 4::8, 2::8] | m[:, 4::8, 4::8]
    assert torch.equal(expected, rule)
