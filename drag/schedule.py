"""The discrete SD schedule as both methods step through it: matching sigmas to steps, the DDIM ending, and
FastDrag's timesteps.

* **The step of a sigma.** Schedules are matched in log sigma (:func:`nearest_step`), on the device, with no
  host sync.
* **The DDIM ending.** The official DDIM schedulers end at ``alphas_cumprod[0]``, not at a clean sample;
  :func:`vp_latent` turns ComfyUI's result there into the latent they decode.
* **FastDrag's timesteps**: DDIM with "leading" spacing, inverted part of the way and sampled back. The
  official pipeline uses diffusers' DDIMScheduler (``steps_offset=1``, ``set_alpha_to_one=False``):
``T`` steps at timesteps ``i * (1000 // T) + 1``, i.e. 901, 801, ..., 1 for T = 10 (ComfyUI's
``ddim_uniform`` schedule gives the same timesteps whenever T divides 1000). Inversion runs the first
``n = round(strength * T)`` of them upwards from the clean latent, sampling runs the same ones
downwards. The step below the lowest timestep goes to alphas_cumprod[0] (timestep 0), not to a clean
sample, in both directions.
"""

from __future__ import annotations

import torch

from .errors import DragInputError

TRAIN_TIMESTEPS = 1000
"""Training timesteps of the SD family's discrete schedule (sigma tables have one sigma per timestep)."""


def nearest_step(schedule: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each of ``sigma`` ([...]), the index of the nearest sigma of ``schedule`` ([S]) and the distance
    to it, both in log sigma (relative, so high and low sigmas count alike). A sigma of 0 in the schedule
    is never nearest. Runs where the tensors are; no host sync."""
    sigma = sigma.to(schedule)
    distance = (schedule.log() - sigma.clamp(min=1e-10).log()[..., None]).abs()
    gap, index = distance.min(dim=-1)
    return index, gap


def vp_latent(x: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
    """The diffusers-style (variance-preserving) latent z of ComfyUI's (variance-exploding) sample ``x`` at ``sigma``.

    The official DDIM schedulers end at alphas_cumprod[0] and decode z there; ComfyUI returns x, which
    differs by the factor sqrt(1 + sigma^2).
    """
    return x / torch.sqrt(1 + torch.as_tensor(sigma, dtype=x.dtype, device=x.device) ** 2)


def leading_timesteps(total_steps: int) -> list[int]:
    """The T sampling timesteps of diffusers' leading DDIM spacing with offset 1, highest first."""
    stride = TRAIN_TIMESTEPS // total_steps
    return [i * stride + 1 for i in reversed(range(total_steps))]


def inversion_step_count(total_steps: int, strength: float) -> int:
    """``round(strength * total_steps)`` (Python's round, as the official code), checked to be usable."""
    if not 1 <= total_steps <= TRAIN_TIMESTEPS:
        raise DragInputError(f"steps: {total_steps} total steps; use 1 to {TRAIN_TIMESTEPS} (FastDrag's default is 10).")
    count = round(strength * total_steps)
    if not 1 <= count <= total_steps:
        raise DragInputError(
            f"inversion_strength: {strength} × {total_steps} steps gives {count} inversion steps; it must give 1 to "
            f"{total_steps}. Raise the strength or the steps (FastDrag's default is 0.7 of 10 steps)."
        )
    return count


def fastdrag_timesteps(total_steps: int, strength: float) -> list[int]:
    """The timesteps FastDrag visits, in sampling order (e.g. [601, 501, ..., 1] for 10 steps at 0.7).

    Inversion visits the same timesteps in reverse; timestep 0 (alphas_cumprod[0]) is where inversion
    starts and sampling ends.
    """
    count = inversion_step_count(total_steps, strength)
    return leading_timesteps(total_steps)[total_steps - count :]
