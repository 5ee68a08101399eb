"""The vectorised warp and BNNI against a per-pixel transcription of the official code, on random inputs.

The official reference cases cover one and two drags on square 64² latents; these cover 1-6 drags,
non-square latents, handles exactly on latent grid points (the official NaN skip), ties and
collisions, and hole maps with unfillable pixels. The mask circle and the warp are also checked at
SDXL size (128² latents for 1024², 152 × 104 for 1216 × 832): coordinates, distances and radii
(25-60 latent pixels there, 5-16 in the small random cases, 16 and 26 in the reference cases) are
larger, so float32 rounding has more room to differ.
"""

import pytest
import torch

from drag_editing_dev.drag.fastdrag.bnni import bnni

from . import official as ref
from drag_editing_dev.drag.fastdrag.warp import fastdrag_warp, mask_circle


def _random_case(seed: int, h: int, w: int):
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    cy, cx = torch.rand(2, generator=g) * torch.tensor([h / 2, w / 2]) + torch.tensor([h / 4, w / 4])
    ry, rx = torch.rand(2, generator=g) * torch.tensor([h / 4, w / 4]) + 3
    mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    if seed % 3 == 0:  # add a rectangle: masks need not be convex
        mask[: h // 3, : w // 3] = True
    center, radius = mask_circle(mask)
    k = int(torch.randint(1, 7, (1,), generator=g))
    # Handles on the official quarter-pixel lattice, inside the circle; some exactly on grid points.
    angle = torch.rand(k, generator=g) * 6.2832
    dist = torch.rand(k, generator=g) * radius * 0.9
    handles = torch.round((center + torch.stack([angle.sin(), angle.cos()], 1) * dist[:, None]) * 4) / 4
    if seed % 2 == 0:
        handles[0] = torch.round(handles[0])
    targets = torch.round((handles + torch.randn(k, 2, generator=g) * radius / 3) * 4) / 4
    latent = torch.randn(1, 4, h, w, generator=g)
    return latent, mask, handles.float(), targets.float()


def _check_against_transcription(latent, mask, handles, targets):
    center, radius = mask_circle(mask)
    expected_center, expected_radius = ref.circle(mask)
    assert torch.equal(center, expected_center)
    assert torch.equal(radius, expected_radius)
    expected, expected_holes = ref.continuous_drag(latent, mask, handles, targets)
    warped, holes = fastdrag_warp(latent, mask, handles, targets)
    assert torch.equal(holes[0], expected_holes)
    assert torch.equal(warped, expected)


@pytest.mark.parametrize("seed", range(12))
def test_warp_matches_per_pixel_transcription(seed):
    h, w = (24, 32) if seed % 2 else (30, 22)
    _check_against_transcription(*_random_case(seed, h, w))


# 2, 3, 5, 1, 6 and 4 drags; seeds 2, 10 and 14 have a masked handle exactly on a grid point at both
# sizes, seed 0 at 128². The per-pixel transcription takes up to about 1 s a case on two cores.
@pytest.mark.parametrize("h, w", [(128, 128), (104, 152)], ids=["1024x1024", "1216x832"])
@pytest.mark.parametrize("seed", [0, 2, 3, 10, 11, 14])
def test_warp_matches_per_pixel_transcription_at_sdxl_size(seed, h, w):
    _check_against_transcription(*_random_case(seed, h, w))


@pytest.mark.parametrize("seed", range(12))
def test_bnni_matches_per_pixel_transcription(seed):
    g = torch.Generator().manual_seed(100 + seed)
    h, w = 17, 23
    holes = torch.rand(h, w, generator=g) < (0.2 + 0.06 * seed)
    if seed % 4 == 0:  # a fully empty row and column: some holes cannot be filled at all
        holes[5] = True
        holes[:, 7] = True
    latent = torch.randn(1, 4, h, w, generator=g) * 10
    assert torch.equal(bnni(latent, holes), ref.bnni(latent, holes))


def test_bnni_keeps_holes_that_see_no_value():
    # Only the bottom-right pixel is kept: a hole off the last row and column has no value in its
    # row or column and no filled neighbour before it, so (as in the official code) it stays as is.
    holes = torch.ones(5, 6, dtype=torch.bool)
    holes[-1, -1] = False
    latent = torch.randn(1, 4, 5, 6)
    filled = bnni(latent, holes)
    assert torch.equal(filled, ref.bnni(latent, holes))
    assert torch.equal(filled[..., :-1, :-1], latent[..., :-1, :-1])
    # The last row and column see only the kept pixel (and fills derived from it).
    torch.testing.assert_close(filled[0, :, -1, :], latent[0, :, -1, -1:].expand(4, 6))
    torch.testing.assert_close(filled[0, :, :, -1], latent[0, :, -1:, -1].expand(4, 5))
