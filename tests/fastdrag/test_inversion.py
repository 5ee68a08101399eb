"""FastDrag's DDIM inversion and the sampling on its schedule (drag/fastdrag/inversion.py) against the official
loops, on a tiny random SD1.5-layout UNet driven the way ComfyUI drives one (tests/unet_harness.py)."""

import torch

import unet_harness as H
from drag_editing_dev.drag.schedule import vp_latent
from drag_editing_dev.drag.fastdrag.inversion import sample_fastdrag_inversion

from .conftest import STEPS
from .official import official_invert, official_sample


@torch.no_grad()
def test_inversion_matches_the_official_inv_step_loop(setup):
    unet, scheduler, context, model, timesteps, inversion_sigmas, _ = setup
    z0 = torch.randn(1, 4, 16, 16)
    x = sample_fastdrag_inversion(model, z0, inversion_sigmas)
    assert model.calls == list(reversed(timesteps))  # 1, 101, ..., 601
    expected = official_invert(unet, z0, context, scheduler, reversed(timesteps), STEPS)
    torch.testing.assert_close(vp_latent(x, inversion_sigmas[-1]), expected, rtol=0, atol=2e-5)


def test_inversion_keeps_no_autograd_graph_when_grad_is_on(setup):
    # Outside ComfyUI's inference mode, with weights that require grad (as ComfyUI loads them), a graph
    # chained through the steps would keep every step's activations alive (gigabytes at 512²).
    unet, _, _, model, _, inversion_sigmas, _ = setup
    unet.requires_grad_(True)
    with torch.enable_grad():
        x = sample_fastdrag_inversion(model, torch.randn(1, 4, 16, 16), inversion_sigmas)
    assert not x.requires_grad


@torch.no_grad()
def test_sampling_on_the_record_schedule_matches_diffusers_ddim(setup):
    unet, scheduler, context, model, timesteps, _, sampling_sigmas = setup
    z = torch.randn(1, 4, 16, 16)
    x = H.sample_euler(model, z * (1 + sampling_sigmas[0] ** 2).sqrt(), sampling_sigmas)
    assert model.calls == timesteps  # 601, 501, ..., 1, ending at alphas_cumprod[0]
    expected = official_sample(unet, z, context, scheduler, timesteps)
    torch.testing.assert_close(vp_latent(x, sampling_sigmas[-1]), expected, rtol=0, atol=2e-5)
