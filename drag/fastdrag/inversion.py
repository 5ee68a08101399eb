"""FastDrag's deterministic DDIM inversion, as a sampler function in k-diffusion's calling convention.

ComfyUI wraps such a function in ``comfy.samplers.KSAMPLER``; it is called as
``fn(model, x, sigmas, extra_args, callback, disable)`` where ``model(x, sigma, **extra_args)``
returns the denoised sample. ComfyUI works in the variance-exploding parameterisation:
``x = z / sqrt(alphas_cumprod)`` with ``sigma = sqrt((1 - alphas_cumprod) / alphas_cumprod)``, and
the UNet sees ``z = x / sqrt(1 + sigma^2)``.

The official inversion (``DragPipeline.invert`` + ``inv_step``) differs from a plain reversed ODE
step in two ways that this function reproduces:

* the UNet is evaluated on the *current* latent z_prev but with the *next* (higher) timestep t, and
  the result is keyed by t;
* it starts from the clean latent taken as the sample at alphas_cumprod[0] (timestep 0), not at
  sigma 0.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


@torch.no_grad()  # as k-diffusion's samplers: outside inference mode the chain of steps would keep every graph
def sample_fastdrag_inversion(
    model: Callable[..., Tensor],
    x: Tensor,
    sigmas: Tensor,
    extra_args: dict | None = None,
    callback: Callable[[dict], None] | None = None,
    disable: bool | None = None,
) -> Tensor:
    """Invert ``x`` along increasing ``sigmas`` = [sigma(0), sigma(t_1), ..., sigma(t_n)].

    ``x``: [B, C, h, w] the clean latent (already scaled by the VAE factor). Returns the VE sample at
    ``sigmas[-1]``: with z_0 the clean latent and each step from sigma_p to sigma_t,
    eps = eps_theta(z_prev, t), x0_hat = x_p - sigma_p * eps, x_t = x0_hat + sigma_t * eps.
    """
    extra_args = {} if extra_args is None else extra_args
    s_in = x.new_ones([x.shape[0]])
    x = x * (1 + sigmas[0] ** 2).sqrt()  # z_0 read as the sample at alphas_cumprod[0]
    for i in range(len(sigmas) - 1):
        sigma, target = sigmas[i], sigmas[i + 1]
        x_in = x * ((1 + target**2) / (1 + sigma**2)).sqrt()  # the UNet then sees z_prev at timestep t
        denoised = model(x_in, target * s_in, **extra_args)
        eps = (x_in - denoised) / target
        x = x + (target - sigma) * eps
        if callback is not None:
            callback({"x": x, "i": i, "sigma": target, "sigma_hat": target, "denoised": denoised})
    return x

