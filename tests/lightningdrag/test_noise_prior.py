"""The official noise prior (drag/lightningdrag/noise_prior.py)."""

import pytest
import torch
from diffusers import DDIMScheduler

from drag_editing_dev.drag.lightningdrag.noise_prior import noise_prior


def test_noise_prior_is_the_official_add_noise_at_999_read_at_the_first_sigma():
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    ac = scheduler.alphas_cumprod.double()
    sigma = ((1 - ac) / ac).sqrt()
    z, eps = torch.randn(2, 4, 8, 8, dtype=torch.float64), torch.randn(2, 4, 8, 8, dtype=torch.float64)
    official = scheduler.add_noise(z, eps, torch.tensor([999]))
    x = noise_prior(z, eps, float(sigma[999]), float(sigma[961]))
    torch.testing.assert_close(x / (1 + sigma[961] ** 2).sqrt(), official.double(), rtol=0, atol=1e-6)
    # In ComfyUI's units this is 0.800·z + 11.691·ε at t = 961 (spec §1.5).
    assert float(x.flatten()[0]) == pytest.approx(float(0.800 * z.flatten()[0] + 11.691 * eps.flatten()[0]), abs=2e-3 * (1 + abs(float(eps.flatten()[0]))) * 12)
