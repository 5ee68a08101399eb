"""ComfyUI helpers every sampling node of the pack uses: latent checks, progress with previews and
interruption, the empty prompt."""

from __future__ import annotations

import comfy.model_management
import comfy.sample
import comfy.samplers
import latent_preview
import torch

from ..drag.errors import DragInputError


def latent_samples(latent: dict, model) -> torch.Tensor:
    samples = latent["samples"]
    if samples.dim() != 4:
        raise DragInputError(f"latent: expected image latents [batch, channels, height, width], got shape {list(samples.shape)}.")
    if not bool(torch.isfinite(samples).all()):
        raise DragInputError("latent: the latent contains NaN or infinite values; check the node that produced it.")
    return comfy.sample.fix_empty_latent_channels(model, samples)


def progress_callback(model, steps: int):
    preview = latent_preview.prepare_callback(model, steps)

    def callback(step, x0, x, total_steps):
        comfy.model_management.throw_exception_if_processing_interrupted()
        preview(step, x0, x, total_steps)

    return callback


def empty_prompt(clip) -> list:
    """The conditioning of the empty prompt (what CLIPTextEncode("") gives), both methods' default text."""
    return clip.encode_from_tokens_scheduled(clip.tokenize(""))


def sampler_names() -> list[str]:
    return list(comfy.samplers.KSampler.SAMPLERS)
