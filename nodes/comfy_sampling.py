"""ComfyUI helpers every sampling node of the pack uses: latent checks, the model's timestep table and
the official DDIM ending, progress with previews and interruption, the empty prompt."""

from __future__ import annotations

import comfy.model_management
import comfy.model_sampling
import comfy.sample
import comfy.samplers
import latent_preview
import torch

from ..drag.checks import check_finite
from ..drag.schedule import TRAIN_TIMESTEPS
from ..drag.errors import DragInputError


def latent_samples(latent: dict, model) -> torch.Tensor:
    samples = latent["samples"]
    if samples.dim() != 4:
        raise DragInputError(f"latent: expected image latents [batch, channels, height, width], got shape {list(samples.shape)}.")
    check_finite(samples, "latent")
    return comfy.sample.fix_empty_latent_channels(model, samples)


def sigma_table(model) -> torch.Tensor | None:
    """The model's sigma at each of its 1000 training timesteps (float32, CPU), or None for a model that
    does not sample on 1000 discrete timesteps."""
    sampling = model.get_model_object("model_sampling")
    if isinstance(sampling, comfy.model_sampling.ModelSamplingDiscrete) and len(sampling.sigmas) == TRAIN_TIMESTEPS:
        return sampling.sigmas.float().cpu()
    return None


def with_official_ddim_end(model, sigmas: torch.Tensor) -> torch.Tensor | None:
    """``sigmas`` ending where the official DDIM schedulers (``set_alpha_to_one=False``) end, at
    alphas_cumprod[0] (the sigma of timestep 0) instead of at 0; None for a model without the table.
    Decode the result there through :func:`drag.schedule.vp_latent`."""
    table = sigma_table(model)
    if table is None:
        return None
    return torch.cat([sigmas[:-1], table[:1]])


def check_conditioning(model, conditioning: list, name: str, fix: str = "Use the CLIP of the checkpoint the model comes from.") -> None:
    """Raise unless ``conditioning`` was encoded for this model's text width (and, for SDXL, carries the
    pooled embedding its size conditioning needs), instead of a shape error deep inside the UNet.
    ``name``: the input to blame; ``fix``: what to connect instead."""
    family = type(model.model.model_config).__name__
    unet = model.model.model_config.unet_config
    for embedding, extra in conditioning:
        if embedding.shape[-1] != unet["context_dim"]:
            raise DragInputError(
                f"{name}: its text embeddings are {embedding.shape[-1]} wide, but this {family} model reads "
                f"{unet['context_dim']}-wide ones. {fix}"
            )
        if unet.get("adm_in_channels") and extra.get("pooled_output") is None:
            raise DragInputError(
                f"{name}: this {family} model also needs the pooled text embedding, which this conditioning lacks. "
                "Encode the prompt with CLIPTextEncode (or CLIPTextEncodeSDXL) from this checkpoint's CLIP."
            )


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
