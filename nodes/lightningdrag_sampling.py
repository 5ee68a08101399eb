"""ComfyUI glue for LightningDrag: the appearance encoder and point network run under ComfyUI's model
management, and the edit is sampled by ComfyUI's samplers on a patched clone of the inpainting MODEL."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import comfy.model_management
import comfy.sample
import comfy.samplers
import comfy.utils
import node_helpers
import torch
from comfy.ldm.modules.attention import optimized_attention
from comfy.patcher_extension import WrappersMP

from ..drag.checks import LATENT_FACTOR, as_mask_batch, check_mask_fits
from ..drag.errors import DragInputError
from ..drag.latent_masks import lightningdrag_editable
from ..drag.lightningdrag.attention import AppearanceBank, AppearanceRecorder, PointEmbeds, sampling_patches
from ..drag.lightningdrag.augment import with_border_anchors
from ..drag.lightningdrag.checks import check_edit_inputs, check_image_embeds
from ..drag.lightningdrag.guidance import PointGuidance, point_cfg_function
from ..drag.lightningdrag.layout import TRANSFORMER_BLOCKS
from ..drag.lightningdrag.noise_prior import noise_prior
from ..drag.comfy_protocol import (
    cfg_function, current_replace, describe, install_replace, module_of, plain_attention, refuse_split_across_devices, with_patch,
)
from ..drag.lightningdrag.point_net import embed_points
from ..drag.points import DragPoints
from ..drag.schedule import vp_latent
from .comfy_sampling import check_conditioning, empty_prompt, latent_samples, progress_callback, with_official_ddim_end
from .lightningdrag_models import LightningDragModels

WRAPPER_KEY = "drag_editing.lightningdrag_run"


def _compute_dtype(patcher) -> torch.dtype:
    model = patcher.model
    return model.manual_cast_dtype or model.get_dtype()


def encode_appearance(models: LightningDragModels, clip, latent: dict) -> AppearanceBank:
    """Run the appearance encoder once on the clean source latent at t = 0 with the empty prompt and
    record the self-attention input of its 16 transformer blocks."""
    samples = latent_samples(latent, models.appearance)
    if samples.shape[0] != 1:
        raise DragInputError(
            f"latent: AppearanceEncode takes one source image, got a batch of {samples.shape[0]}. Encode one image; "
            "DragKSampler's candidates input makes several results."
        )
    conditioning = empty_prompt(clip)
    check_conditioning(
        models.appearance, conditioning, "clip",
        fix="Connect the CLIP of the SD1.5 inpainting checkpoint (LightningDrag's appearance encoder is an SD1.5 UNet).",
    )
    comfy.model_management.load_models_gpu([models.appearance])
    base = models.appearance.model
    device, dtype = models.appearance.load_device, _compute_dtype(models.appearance)
    recorder = AppearanceRecorder()
    base.diffusion_model(
        base.process_latent_in(samples).to(device, dtype),
        timesteps=torch.zeros(1, device=device),
        context=conditioning[0][0].to(device, dtype),
        transformer_options=with_patch("attn1_patch", recorder),
    )
    # Kept where ComfyUI keeps node outputs (system memory unless --gpu-only) while it waits in ComfyUI's cache;
    # the sampling patches move it in with the model.
    return recorder.bank(tuple(samples.shape), samples, conditioning, device=comfy.model_management.intermediate_device())


def embed(models: LightningDragModels, points: DragPoints, mask: torch.Tensor | None, anchors: int) -> PointEmbeds:
    """The point embeddings of ``points`` (plus ``anchors`` keep-still pairs around ``mask``)."""
    if anchors > 0:
        if mask is None:
            raise DragInputError("mask: anchors are placed around the mask; connect the mask, or set anchors to 0.")
        mask = as_mask_batch(mask)
        check_mask_fits(mask, points, mask.shape[0])
        points = with_border_anchors(points, mask[0], anchors)
    comfy.model_management.load_models_gpu([models.points])
    levels = embed_points(models.points.model, points, models.points.load_device)
    home = comfy.model_management.intermediate_device()
    return PointEmbeds([(h.to(home), t.to(home)) for h, t in levels], points.width, points.height, len(points.handles))


def _check_model(model, models: LightningDragModels) -> None:
    base = model.model
    family = type(base.model_config).__name__
    if family != "SD15":
        raise DragInputError(
            f"model: LightningDrag's release was trained for SD1.5 inpainting UNets, but this model is {family} "
            f"({type(base).__name__}). Load an SD1.5 inpainting checkpoint (the release uses Lykon/dreamshaper-8-inpainting); "
            "for SD2.x and SDXL use FastDrag."
        )
    if tuple(getattr(base, "concat_keys", ())) != ("mask", "masked_image"):
        channels = base.model_config.unet_config.get("in_channels")
        raise DragInputError(
            f"model: LightningDrag needs an SD1.5 inpainting model (9 input channels: latent, mask, masked image), "
            f"but this model has {channels}. Load an SD1.5 inpainting checkpoint (the release uses "
            "Lykon/dreamshaper-8-inpainting) with CheckpointLoaderSimple."
        )
    config = base.model_config.unet_config
    widths = tuple(config.get("model_channels", 0) * m for m in config.get("channel_mult", ()))
    if widths != models.widths:
        raise DragInputError(
            f"model: its UNet has block widths {widths}, but the LightningDrag release '{models.name}' was made for "
            f"{models.widths} (SD1.5 is 320, 640, 1280, 1280). Use an SD1.5 inpainting checkpoint."
        )


def inpaint_conditioning(conditioning: list, vae, image: torch.Tensor, mask: torch.Tensor, latent_hw) -> list:
    """The text conditioning with the official inpainting channels: the mask (1 = editable,
    binarised at 0.5, nearest to the latent grid) and the latent of the image greyed where editable."""
    editable = lightningdrag_editable(mask).to(image.device)  # a mask from LoadImage is on the CPU, a decoded image may not be
    masked = torch.where(editable[..., None], torch.full_like(image[..., :3], 0.5), image[..., :3])
    masked_latent = vae.encode(masked)
    latent_mask = editable.float()[:, None, ::LATENT_FACTOR, ::LATENT_FACTOR][..., : latent_hw[0], : latent_hw[1]]
    return node_helpers.conditioning_set_values(conditioning, {"concat_latent_image": masked_latent, "concat_mask": latent_mask})


def _self_attentions(patcher) -> dict:
    """The self-attention module of each of the 16 transformer blocks (what ``to_k`` / ``to_v`` the bank goes through)."""
    unet = patcher.get_model_object("diffusion_model")
    stacks = {"input": unet.input_blocks, "middle": [unet.middle_block], "output": unet.output_blocks}
    found = {}
    for block in TRANSFORMER_BLOCKS:
        kind, number = block.key
        transformer = next(m for m in stacks[kind][number] if hasattr(m, "transformer_blocks"))
        found[block.key] = transformer.transformer_blocks[0].attn1
    return found


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict) -> torch.Tensor:
    return plain_attention(optimized_attention, q, k, v, extra_options)


ATTENTION_MAP_READERS = {"comfy_extras.nodes_sag": "SelfAttentionGuidance"}
"""Modules whose self-attention replacement reads the attention probabilities as an h×w map of the image."""


def _refuse_incompatible(model) -> None:
    for block in TRANSFORMER_BLOCKS:
        other = current_replace(model, "attn1", block.key)
        reader = ATTENTION_MAP_READERS.get(module_of(other)) if other is not None else None
        if reader is not None:
            raise DragInputError(
                f"model: {reader} replaced the self-attention of block {block.key} ({describe(other)}) to read its "
                "attention map as a picture of the image. LightningDrag adds the source image's appearance to the keys "
                f"of that attention, so the map would no longer be one. Remove {reader} from the model given to "
                "DragKSampler (PerturbedAttentionGuidance works with it)."
            )


@dataclass(frozen=True)
class DragInputs:
    """What LightningDrag's patches put into the inpainting model: the loaded release (``models``), the source's
    appearance bank, the point embeddings, and IP-Adapter's image embedding ([1, 1024], CLIP-ViT-H)."""

    models: LightningDragModels
    appearance: AppearanceBank
    embeds: PointEmbeds
    image_embeds: torch.Tensor

    @classmethod
    def of(cls, models: LightningDragModels, appearance: AppearanceBank, embeds: PointEmbeds, clip_vision_output) -> DragInputs:
        """From the nodes' outputs; the CLIP vision output is checked (check_image_embeds)."""
        return cls(models, appearance, embeds, check_image_embeds(getattr(clip_vision_output, "image_embeds", None)))


@dataclass(frozen=True)
class EditSource:
    """The inpainting conditioning's inputs: the source ``image`` ([1, H, W, 3], 0-1) with its editable ``mask``
    ([1, H, W], 1 = may change), encoded by ``vae``; ``positive``: the main UNet's text conditioning (None: the
    empty prompt the appearance was encoded with, as the official code)."""

    vae: Any
    image: torch.Tensor
    mask: torch.Tensor
    positive: list | None = None


@dataclass(frozen=True)
class Sampling:
    """How the edit is sampled: ``candidates`` results from ``seed``, ``steps`` of ComfyUI's sampler
    ``sampler_name`` on the schedule ``scheduler``."""

    seed: int
    steps: int
    sampler_name: str
    scheduler: str
    candidates: int = 1


def patched_model(model, inputs: DragInputs, guidance: PointGuidance):
    """A clone of the inpainting ``model`` that is LightningDrag's main UNet: the appearance bank, point terms
    and IP-Adapter in its attention, and point-following CFG when ``guidance`` is on, each chained with what
    other nodes installed."""
    models = inputs.models
    _check_model(model, models)
    _refuse_incompatible(model)
    refuse_split_across_devices(model.model_options, "DragKSampler")
    if model.load_device != models.attention.load_device:
        raise DragInputError(
            f"model: it runs on {model.load_device}, but LightningDrag's weights load on {models.attention.load_device}, "
            "ComfyUI's main device. Give DragKSampler the model before the node that moved it (e.g. SelectModelDevice)."
        )
    self_attention, cross_attention = sampling_patches(
        models.attention.model, inputs.appearance, inputs.embeds, inputs.image_embeds[:1], _attention,
        {key: (lambda r, attn=attn: (attn.to_k(r), attn.to_v(r))) for key, attn in _self_attentions(model).items()},
        owners=(models.attention,),
    )
    patched = model.clone()
    for key in self_attention:
        installed = install_replace(patched, "attn1", key, self_attention[key])
        install_replace(patched, "attn2", key, cross_attention[key])
    patched.add_wrapper_with_key(WrappersMP.OUTER_SAMPLE, WRAPPER_KEY, _forget_after_run(installed.inputs))
    if guidance.on:
        other = cfg_function(patched)
        if other is not None:
            logging.info(f"DragKSampler: point guidance runs through the CFG function already on the model, {describe(other)}")
        patched.set_model_sampler_cfg_function(point_cfg_function(guidance.scale, guidance.decay, other), disable_cfg1_optimization=True)
    return patched


def _forget_after_run(inputs):
    """An ``OUTER_SAMPLE`` wrapper that drops what the patches computed for a run when it ends (a closure:
    ComfyUI copies model options on clone, and copies a function as itself)."""

    def outer_sample(executor, *args, **kwargs):
        try:
            return executor(*args, **kwargs)
        finally:
            inputs.forget()

    return outer_sample


def sampling_sigmas(patched, sampler_name: str, scheduler: str, steps: int) -> tuple[torch.Tensor, bool]:
    """The schedule, and whether it ends at alphas_cumprod[0] as the official DDIMScheduler does (with
    ``ddim``), rather than at sigma 0."""
    sigmas = comfy.samplers.calculate_sigmas(patched.get_model_object("model_sampling"), scheduler, steps).cpu()
    official = with_official_ddim_end(patched, sigmas) if sampler_name == "ddim" else None
    return (sigmas, False) if official is None else (official, True)


def start_latent(patched, source: torch.Tensor, candidates: int, seed: int, first_sigma: float) -> torch.Tensor:
    """``candidates`` copies of the source latent with the official noise prior (noised to t = 999,
    read at the schedule's first sigma), in the LATENT's units."""
    start = source.repeat(candidates, 1, 1, 1)
    noise = comfy.sample.prepare_noise(start, seed).to(start.device)  # ComfyUI draws it on the CPU, for every device alike
    sigma_max = float(patched.get_model_object("model_sampling").sigma_max)
    return patched.model.process_latent_out(noise_prior(patched.model.process_latent_in(start), noise, sigma_max, first_sigma))


def drag_sample(model, inputs: DragInputs, source: EditSource, sampling: Sampling, guidance: PointGuidance) -> dict:
    """LightningDrag's edit: ``sampling.candidates`` samples of the source with the points followed. Everything is
    checked before the VAE encodes anything."""
    latent = inputs.appearance.source
    mask = check_edit_inputs(inputs.embeds, tuple(latent.shape), source.image, source.mask)
    patched = patched_model(model, inputs, guidance)
    if source.positive is not None:
        check_conditioning(model, source.positive, "positive")
    text = inputs.appearance.conditioning if source.positive is None else source.positive
    conditioning = inpaint_conditioning(text, source.vae, source.image, mask, tuple(latent.shape[-2:]))
    return sample_patched(patched, latent, conditioning, sampling, guidance)


def sample_patched(patched, source: torch.Tensor, conditioning: list, sampling: Sampling, guidance: PointGuidance) -> dict:
    """Sample the edit on a :func:`patched_model` from the noise prior of the ``source`` latent."""
    sigmas, ends_at_alpha0 = sampling_sigmas(patched, sampling.sampler_name, sampling.scheduler, sampling.steps)
    x = start_latent(patched, source, sampling.candidates, sampling.seed, float(sigmas[0]))
    out = comfy.sample.sample_custom(
        patched, torch.zeros_like(x), guidance.sampler_cfg, comfy.samplers.sampler_object(sampling.sampler_name), sigmas,
        conditioning, conditioning, x, callback=progress_callback(patched, len(sigmas) - 1),
        disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=sampling.seed,
    )
    return {"samples": vp_latent(out, sigmas[-1]) if ends_at_alpha0 else out}
