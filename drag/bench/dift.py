"""DIFT features as DragBench's MD uses them (Tang et al. 2023; DragDiffusion ``drag_bench_evaluation/dift_sd.py``):
one noisy UNet pass of SD-2.1 over an ensemble of copies of the image, the output of up block ``up_ft_index``
averaged over the ensemble and upsampled bilinearly to the image's size.

The model is reached through :class:`DiftModel`'s callables, so this module needs no particular framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

DIFT_T = 261
DIFT_UP_INDEX = 1
DIFT_ENSEMBLE = 8


@dataclass(frozen=True)
class DiftModel:
    """The SD model DIFT runs: ``encode(image) -> (mean, logvar)``, the VAE encoder's unscaled latent distribution
    for (N, 3, H, W) images in [-1, 1]; ``features(latent, t, context) -> (N, C, h, w)``, the UNet run on a noisy
    latent at integer timestep ``t`` up to the end of the chosen up block; the DDPM schedule's ``alphas_cumprod``
    (1000 entries); the VAE's ``latent_scale``."""

    encode: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    features: Callable[[torch.Tensor, int, torch.Tensor], torch.Tensor]
    alphas_cumprod: torch.Tensor
    latent_scale: float


def dift_features(
    image: torch.Tensor, model: DiftModel, context: torch.Tensor, generator: torch.Generator, t: int = DIFT_T, ensemble: int = DIFT_ENSEMBLE,
) -> torch.Tensor:
    """DIFT features of ``image`` ((1, 3, H, W) in [-1, 1]) as (1, C, H, W) float32.

    As the evaluation does: the image repeated ``ensemble`` times; each copy's latent sampled from the VAE's
    distribution and scaled by the model's ``latent_scale``; noised to timestep ``t`` with its schedule:
    sqrt(ā_t)·z + sqrt(1 − ā_t)·ε; one UNet pass with the prompt's ``context`` ((1, tokens, width)); the features averaged over the copies, then upsampled to H × W (bilinear, corners not
    aligned). The latent samples are drawn before the noise, both from ``generator``."""
    _, _, height, width = image.shape
    batch = image.repeat(ensemble, 1, 1, 1)
    mean, logvar = model.encode(batch)
    sample = torch.randn(mean.shape, generator=generator, device=generator.device, dtype=torch.float32).to(mean)
    latent = (mean + torch.exp(0.5 * logvar.clamp(-30.0, 20.0)) * sample) * model.latent_scale
    noise = torch.randn(latent.shape, generator=generator, device=generator.device, dtype=torch.float32).to(latent)
    alpha = model.alphas_cumprod[t].to(latent)
    noisy = alpha.sqrt() * latent + (1 - alpha).sqrt() * noise
    out = model.features(noisy, t, context.expand(ensemble, *context.shape[1:]))
    averaged = out.float().mean(0, keepdim=True)
    return F.interpolate(averaged, (height, width), mode="bilinear", align_corners=False)
