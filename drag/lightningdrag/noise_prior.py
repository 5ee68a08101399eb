"""LightningDrag's initial latent: the source latent noised to timestep 999, whatever the first step is."""

from __future__ import annotations

from torch import Tensor


def noise_prior(source: Tensor, noise: Tensor, sigma_max: float, first_sigma: float) -> Tensor:
    """The sampler's starting sample in ComfyUI's variance-exploding form, at ``first_sigma``.

    ``source``: [B, C, h, w] the source latent in model space (VAE latent × scaling factor);
    ``noise``: standard normal of the same shape. The official pipeline starts from
    z = sqrt(ᾱ₉₉₉)·source + sqrt(1 - ᾱ₉₉₉)·noise (``add_noise`` at t = 999) and treats it as the state
    of its first timestep (961 for DDIM-25, 999 for LCM-8); in VE form at sigma σ₀ that state is
    z·sqrt(1 + σ₀²). ``sigma_max`` is σ at t = 999 (ᾱ₉₉₉ = 1 / (1 + σ_max²)).
    """
    alpha = 1.0 / (1.0 + sigma_max**2)
    z = alpha**0.5 * source + (1.0 - alpha) ** 0.5 * noise
    return z * (1.0 + first_sigma**2) ** 0.5
