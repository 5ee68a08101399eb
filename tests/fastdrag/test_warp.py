"""Properties of FastDrag's warp (drag/fastdrag/warp.py) that hold for any input."""

import torch

from drag_editing_dev.drag.fastdrag.bnni import bnni
from drag_editing_dev.drag.fastdrag.warp import apply_relocation, destinations, fastdrag_warp, mask_circle, relocation_map, warp_vectors


def _disc(h, w, cy, cx, r):
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_identity_drag_leaves_the_latent_unchanged():
    latent = torch.randn(2, 4, 40, 48)
    mask = _disc(40, 48, 20, 22, 12)
    p = torch.tensor([[18.25, 20.5], [24.75, 27.0]])
    warped, holes = fastdrag_warp(latent, mask, p, p.clone())
    assert not bool(holes.any())
    assert torch.equal(warped, latent)
    assert torch.equal(bnni(warped, holes), latent)


def test_identity_drag_with_handle_on_a_grid_point_only_loses_that_pixel():
    # The official warp is NaN where a pixel coincides with a handle; that pixel is skipped (a hole).
    latent = torch.randn(1, 4, 40, 48)
    mask = _disc(40, 48, 20, 22, 12)
    p = torch.tensor([[18.0, 20.0]])
    warped, holes = fastdrag_warp(latent, mask, p, p.clone())
    expected_holes = torch.zeros(40, 48, dtype=torch.bool)
    expected_holes[18, 20] = True
    assert torch.equal(holes[0], expected_holes)
    assert torch.equal(warped[..., ~expected_holes], latent[..., ~expected_holes])
    filled = bnni(warped, holes)
    left, right, up, down = (latent[0, :, 18, 19], latent[0, :, 18, 21], latent[0, :, 17, 20], latent[0, :, 19, 20])
    torch.testing.assert_close(filled[0, :, 18, 20], (left + right + up + down) / 4)


def test_blob_under_a_single_handle_ends_at_the_target():
    h, w = 40, 40
    latent = torch.randn(1, 4, h, w) * 0.1
    latent[:, :, 9:12, 9:12] = 10.0  # a 3×3 blob centred on (10, 10)
    mask = _disc(h, w, 12, 15, 12)
    handle = torch.tensor([[10.25, 10.25]])
    target = torch.tensor([[10.25, 16.25]])
    warped, holes = fastdrag_warp(latent, mask, handle, target)
    filled = bnni(warped, holes)
    assert torch.all(filled[0, :, 10, 16] == 10.0)
    blob = (filled[0, 0] > 5).nonzero().float()
    centroid = blob.mean(0)
    assert torch.allclose(centroid, torch.tensor([10.0, 16.0]), atol=1.0), centroid


def _written(mask, handles, targets):
    pixels = torch.nonzero(mask)
    center, radius = mask_circle(mask)
    dest, valid = destinations(pixels, warp_vectors(pixels, handles, targets, center, radius), *mask.shape)
    written = torch.zeros_like(mask)
    written[dest[valid, 0], dest[valid, 1]] = True
    return written


def test_holes_are_exactly_the_mask_pixels_nothing_was_written_to():
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        mask = _disc(32, 36, 16, 18, 11) & (torch.rand(32, 36, generator=g) > 0.1)
        handles = torch.tensor([[14.5, 15.25], [19.0, 22.75]])
        targets = handles + torch.randn(2, 2, generator=g) * 5
        _, holes = fastdrag_warp(torch.randn(1, 4, 32, 36), mask, handles, targets)
        assert torch.equal(holes[0], mask & ~_written(mask, handles, targets))


def test_only_the_mask_and_the_destinations_change():
    latent = torch.randn(1, 4, 32, 36)
    mask = _disc(32, 36, 16, 18, 8)
    handles = torch.tensor([[16.25, 14.5]])
    targets = torch.tensor([[16.25, 26.5]])  # a large outward drag: destinations leave the mask
    warped, _ = fastdrag_warp(latent, mask, handles, targets)
    written = _written(mask, handles, targets)
    untouched = ~mask & ~written
    assert bool((written & ~mask).any())  # the case really writes outside the mask
    assert torch.equal(warped[..., untouched], latent[..., untouched])
    # Every written pixel outside the mask holds the value of some mask pixel.
    src = relocation_map(mask, handles, targets)
    outside = written & ~mask
    assert bool(mask.flatten()[src[outside]].all())
    assert torch.equal(warped[0][:, outside], latent[0].flatten(1)[:, src[outside]])


def test_batch_shares_one_mask_or_uses_one_per_element():
    latent = torch.randn(3, 4, 24, 28)
    handles, targets = torch.tensor([[12.25, 13.5]]), torch.tensor([[10.0, 18.75]])
    masks = torch.stack([_disc(24, 28, 12, 14, r) for r in (6, 8, 10)])
    shared, shared_holes = fastdrag_warp(latent, masks[1], handles, targets)
    assert shared_holes.shape == (1, 24, 28)
    each, each_holes = fastdrag_warp(latent, masks, handles, targets)
    assert each_holes.shape == (3, 24, 28)
    for i in range(3):
        single, single_holes = fastdrag_warp(latent[i : i + 1], masks[1], handles, targets)
        assert torch.equal(shared[i : i + 1], single)
        single, single_holes = fastdrag_warp(latent[i : i + 1], masks[i], handles, targets)
        assert torch.equal(each[i : i + 1], single)
        assert torch.equal(bnni(each, each_holes)[i : i + 1], bnni(single, single_holes))


def test_nearest_handle_moves_each_pixel_by_its_nearest_drag_only():
    mask = _disc(40, 40, 20, 20, 14)
    handles = torch.tensor([[20.25, 12.5], [20.25, 27.5]])
    targets = torch.tensor([[20.25, 17.5], [20.25, 22.5]])  # opposing drags towards each other
    pixels = torch.nonzero(mask)
    center, radius = mask_circle(mask)
    nearest = warp_vectors(pixels, handles, targets, center, radius, "nearest_handle")
    for i in range(2):
        alone = warp_vectors(pixels, handles[i : i + 1], targets[i : i + 1], center, radius)
        mine = (pixels.float() - handles[i]).norm(dim=1) < (pixels.float() - handles[1 - i]).norm(dim=1)
        assert torch.equal(nearest[mine], alone[mine])
    single = warp_vectors(pixels, handles[:1], targets[:1], center, radius)
    assert torch.equal(warp_vectors(pixels, handles[:1], targets[:1], center, radius, "nearest_handle"), single)


def test_hole_fills_original_and_random():
    latent = torch.randn(1, 4, 24, 24)
    src = relocation_map(_disc(24, 24, 12, 12, 8), torch.tensor([[12.25, 10.5]]), torch.tensor([[12.25, 16.5]]))
    holes = src < 0
    original, _ = apply_relocation(latent, src, "original")
    assert torch.equal(original[0][:, holes], latent[0][:, holes])
    noisy, _ = apply_relocation(latent, src, "random")
    values = noisy[0][:, holes]
    assert bool(((values >= 0) & (values < 1)).all())
    assert torch.equal(apply_relocation(latent, src, "random")[0], noisy)  # fixed seed: reproducible
    assert torch.equal(noisy[0][:, ~holes], original[0][:, ~holes])
