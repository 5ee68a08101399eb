"""The schedule's math (drag/schedule.py): the step of a sigma, the DDIM ending, and FastDrag's timesteps (the official
ones, diffusers' leading spacing)."""

import pytest
import torch

import unet_harness as H
from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.schedule import fastdrag_timesteps, inversion_step_count, leading_timesteps, nearest_step, vp_latent


def test_default_timesteps_are_the_official_ones():
    assert leading_timesteps(10) == [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]
    assert fastdrag_timesteps(10, 0.7) == [601, 501, 401, 301, 201, 101, 1]


@pytest.mark.parametrize("steps", [10, 25, 30, 7, 50])
def test_leading_timesteps_equal_diffusers_ddim(steps):
    scheduler = H.official_scheduler()
    scheduler.set_timesteps(steps)
    assert leading_timesteps(steps) == scheduler.timesteps.tolist()


def test_inversion_step_count_uses_pythons_rounding_and_refuses_nothing_to_do():
    assert inversion_step_count(10, 0.7) == 7
    assert inversion_step_count(10, 0.25) == 2  # round(2.5) == 2, as in the official code
    with pytest.raises(DragInputError, match="inversion_strength: 0.01 × 10 steps gives 0"):
        inversion_step_count(10, 0.01)
    with pytest.raises(DragInputError, match="steps: 0 total steps"):
        inversion_step_count(0, 0.7)


def test_steps_are_found_in_log_sigma_and_a_final_zero_is_never_one():
    schedule = torch.tensor([14.6, 4.0, 1.0, 0.0])
    index, gap = nearest_step(schedule, torch.tensor([14.6, 3.0, 0.9, 0.0]))
    assert index.tolist() == [0, 1, 2, 2] and gap[0] == 0 and gap[-1] > 10


def test_the_ddim_ending_reads_the_ve_sample_as_a_vp_latent():
    x = torch.full((1, 4, 2, 2), 2.0)
    torch.testing.assert_close(vp_latent(x, 0.75), x / 1.25)
