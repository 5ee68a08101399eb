"""The shared input checks (drag/checks.py): one message per problem, each starting with the input's name."""

import torch

from helpers import error_of
from drag_editing_dev.drag.checks import as_mask_batch, check_editable, check_finite, check_latent_fits, check_mask_fits, check_mask_size
from drag_editing_dev.drag.points import DragPoints

POINTS = DragPoints.from_pairs([((10, 20), (30, 40))], 96, 64)


def test_loadimage_placeholder_mask_is_named():
    msg = error_of(check_mask_fits, torch.zeros(1, 64, 64), POINTS, 1)
    assert msg.startswith("mask: the connected mask is an empty 64×64 mask") and "MaskEditor" in msg
    # A painted 64×64 mask, or an empty one on a 64×64 image, is judged by size as any other mask.
    assert error_of(check_mask_fits, torch.ones(1, 64, 64), POINTS, 1).startswith("mask: 64×64, but the image is 96×64")
    check_mask_fits(torch.zeros(1, 64, 64), DragPoints.from_pairs([((10, 20), (30, 40))], 64, 64), 1)


def test_mask_size_and_batch():
    check_mask_size(torch.ones(2, 64, 96), 96, 64, 2)
    check_mask_size(torch.ones(1, 64, 96), 96, 64, 2)
    assert error_of(check_mask_size, torch.ones(1, 32, 32), 96, 64, 1).startswith("mask: 32×32, but the image is 96×64")
    assert error_of(check_mask_size, torch.ones(3, 64, 96), 96, 64, 2, "holes").startswith("holes: 3 masks for a batch of 2")


def test_one_message_for_an_empty_mask_and_one_for_a_mask_too_small_for_the_latent():
    check_editable(torch.ones(2, 8, 8, dtype=torch.bool))
    some = torch.zeros(2, 8, 8, dtype=torch.bool)
    some[0, 1, 1] = True
    assert error_of(check_editable, some).startswith("mask: it is empty, so nothing may change")  # the second is empty
    assert error_of(check_editable, torch.ones(1, 8, 8, dtype=torch.bool), "mask", torch.zeros(1, 1, 1, dtype=torch.bool)).startswith(
        "mask: it covers too little to reach any latent pixel")


def test_non_finite_values_and_shapes_are_named():
    assert error_of(check_finite, torch.tensor([1.0, float("inf")]), "latent") == (
        "latent: it contains NaN or infinite values; check the node that produced it.")
    assert error_of(as_mask_batch, torch.full((4, 4), float("nan")), "holes").startswith("holes: it contains NaN")
    assert error_of(as_mask_batch, torch.ones(1, 1, 4, 4)).startswith("mask: expected a MASK of shape")
    assert error_of(check_latent_fits, torch.zeros(1, 4, 8, 8), POINTS).startswith("latent: the latent is 8×8")
    assert error_of(check_latent_fits, torch.full((1, 4, 8, 12), float("nan")), POINTS).startswith("latent: it contains NaN")
