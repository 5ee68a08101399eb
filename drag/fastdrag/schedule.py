"""FastDrag's timesteps: DDIM with "leading" spacing, inverted part of the way and sampled back.

The official pipeline uses diffusers' DDIMScheduler (``steps_offset=1``, ``set_alpha_to_one=False``):
``T`` steps at timesteps ``i * (1000 // T) + 1``, i.e. 901, 801, ..., 1 for T = 10 (ComfyUI's
``ddim_uniform`` schedule gives the same timesteps whenever T divides 1000). Inversion runs the first
``n = round(strength * T)`` of them upwards from the clean latent, sampling runs the same ones
downwards. The step below the lowest timestep goes to alphas_cumprod[0] (timestep 0), not to a clean
sample, in both directions.
"""

from __future__ import annotations

from ..comfy_protocol import TRAIN_TIMESTEPS
from ..errors import DragInputError


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
