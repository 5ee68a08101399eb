"""Latent-resolution masks and ComfyUI MASKs (drag/latent_masks.py)."""

import torch

from drag_editing_dev.drag.latent_masks import fastdrag_editable, image_mask_to_latent, latent_mask_to_image, lightningdrag_editable


def test_latent_masks_round_trip_and_area_rule():
    holes = torch.rand(2, 12, 10) > 0.6
    image = latent_mask_to_image(holes)
    assert image.shape == (2, 96, 80) and image.dtype == torch.float32
    assert torch.equal(image_mask_to_latent(image, 12, 10), holes)
    assert torch.equal(image_mask_to_latent(holes.float(), 12, 10), holes)  # already at latent size
    half = torch.zeros(1, 16, 16)
    half[:, :8, :4] = 1  # half of latent pixel (0, 0), none of the others
    assert image_mask_to_latent(half, 2, 2).tolist() == [[[True, False], [False, False]]]


def test_each_method_binarises_a_soft_mask_by_its_official_rule():
    soft = torch.tensor([0.0, 0.1, 0.49, 0.5, 1.0])
    assert fastdrag_editable(soft).tolist() == [False, True, True, True, True]  # the demo's sketch: > 0
    assert lightningdrag_editable(soft).tolist() == [False, False, False, True, True]  # VaeImageProcessor: >= 0.5
