"""The tiny UNet and the official schedule the inversion and K/V tests share."""

import pytest
import torch

import unet_harness as H
from drag_editing_dev.drag.schedule import fastdrag_timesteps


STEPS, STRENGTH = 10, 0.7


@pytest.fixture
def setup():
    torch.manual_seed(0)
    unet = H.tiny_unet()
    scheduler = H.official_scheduler()
    scheduler.set_timesteps(STEPS)
    context = torch.randn(1, 77, H.CONTEXT_DIM)
    model = H.Denoiser(unet, context, scheduler)
    timesteps = fastdrag_timesteps(STEPS, STRENGTH)
    inversion_sigmas = torch.stack([model.sigma(0)] + [model.sigma(t) for t in reversed(timesteps)])
    sampling_sigmas = torch.stack([model.sigma(t) for t in timesteps] + [model.sigma(0)])
    return unet, scheduler, context, model, timesteps, inversion_sigmas, sampling_sigmas
