"""ComfyUI glue for LightningDrag: the appearance encoder and point network run under ComfyUI's model
management, and the edit is sampled by ComfyUI's samplers on a patched clone of the inpainting MODEL."""

from __future__ import annotations

import comfy.model_management
import comfy.model_sampling
import comfy.sample
import comfy.samplers
import comfy.utils
import node_helpers
import torch
from comfy.ldm.modules.attention import optimized_attention

from ..drag.checks import LATENT_FACTOR, as_mask_batch, check_mask_fits
from ..drag.errors import DragInputError
from ..drag.fastdrag.inversion import vp_latent
from ..drag.lightningdrag.attention import AppearanceBank, AppearanceRecorder, PointEmbeds, sampling_patches
from ..drag.lightningdrag.augment import with_border_anchors
from ..drag.lightningdrag.checks import check_edit_inputs, check_image_embeds
from ..drag.lightningdrag.guidance import point_cfg_function
from ..drag.lightningdrag.noise_prior import noise_prior
from ..drag.lightningdrag.point_net import embed_points
from ..drag.points import DragPoints
from .comfy_sampling import empty_prompt, latent_samples, progress_callback
from .lightningdrag_models import LightningDragModels

PATCH_KEY = "lightning_drag"


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
    comfy.model_management.load_models_gpu([models.appearance])
    base = models.appearance.model
    device, dtype = models.appearance.load_device, _compute_dtype(models.appearance)
    recorder = AppearanceRecorder()
    base.diffusion_model(
        base.process_latent_in(samples).to(device, dtype),
        timesteps=torch.zeros(1, device=device),
        context=conditioning[0][0].to(device, dtype),
        transformer_options={"patches": {"attn1_patch": [recorder]}},
    )
    return recorder.bank(tuple(samples.shape), samples, conditioning)


def embed(models: LightningDragModels, points: DragPoints, mask: torch.Tensor | None, anchors: int) -> PointEmbeds:
    """The point embeddings of ``points`` (plus ``anchors`` keep-still pairs around ``mask``)."""
    if anchors > 0:
        if mask is None:
            raise DragInputError("mask: anchors are placed around the mask; connect the mask, or set anchors to 0.")
        mask = as_mask_batch(mask)
        check_mask_fits(mask, points, mask.shape[0])
        points = with_border_anchors(points, mask[0], anchors)
    comfy.model_management.load_models_gpu([models.points])
    net = models.points.model
    levels = embed_points(net, points, next(net.parameters()).dtype, models.points.load_device)
    return PointEmbeds(levels, points.width, points.height, len(points.handles))


def _check_model(model, models: LightningDragModels) -> None:
    base = model.model
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


def _inpaint_conditioning(conditioning: list, vae, image: torch.Tensor, mask: torch.Tensor, latent_hw) -> list:
    """The empty-prompt conditioning with the official inpainting channels: the mask (1 = editable,
    binarised at 0.5, nearest to the latent grid) and the latent of the image greyed where editable."""
    editable = (mask >= 0.5).float()
    masked = torch.where(editable[..., None].bool(), torch.full_like(image[..., :3], 0.5), image[..., :3])
    masked_latent = vae.encode(masked)
    latent_mask = editable[:, None, ::LATENT_FACTOR, ::LATENT_FACTOR][..., : latent_hw[0], : latent_hw[1]]
    return node_helpers.conditioning_set_values(conditioning, {"concat_latent_image": masked_latent, "concat_mask": latent_mask})


def drag_sample(
    model, models: LightningDragModels, appearance: AppearanceBank, embeds: PointEmbeds, vae, image: torch.Tensor,
    mask: torch.Tensor, clip_vision_output, seed: int, steps: int, point_guidance: float, decay: str,
    sampler_name: str, scheduler: str, candidates: int,
) -> dict:
    """LightningDrag's edit: ``candidates`` samples of the source with the points followed."""
    _check_model(model, models)
    source = appearance.source
    h, w = source.shape[-2:]
    mask = check_edit_inputs(embeds, tuple(source.shape), image, mask)
    image_embeds = check_image_embeds(getattr(clip_vision_output, "image_embeds", None))

    positive = _inpaint_conditioning(appearance.conditioning, vae, image, mask, (h, w))
    weights = models.attention.model
    bank_patch, point_replace, ip_replace = sampling_patches(
        weights, appearance, embeds, weights.image_tokens(image_embeds[:1]), optimized_attention,
    )
    patched = model.clone()
    patched.set_model_attn1_patch(bank_patch)
    for (block, number), fn in point_replace.items():
        patched.set_model_attn1_replace(fn, block, number)
    for (block, number), fn in ip_replace.items():
        patched.set_model_attn2_replace(fn, block, number)
    patched.set_additional_models(PATCH_KEY, [models.attention])
    cfg = 1.0
    if point_guidance > 1.0:
        patched.set_model_sampler_cfg_function(point_cfg_function(point_guidance, decay), disable_cfg1_optimization=True)
        cfg = point_guidance

    sampling = patched.get_model_object("model_sampling")
    sigmas = comfy.samplers.calculate_sigmas(sampling, scheduler, steps).cpu()
    ends_at_alpha0 = sampler_name == "ddim" and isinstance(sampling, comfy.model_sampling.ModelSamplingDiscrete) and len(sampling.sigmas) == 1000
    if ends_at_alpha0:  # the official DDIMScheduler (set_alpha_to_one=False) ends at alphas_cumprod[0], not at sigma 0
        sigmas[-1] = float(sampling.sigmas[0])
    start = source.repeat(candidates, 1, 1, 1)
    noise = comfy.sample.prepare_noise(start, seed)
    x = noise_prior(patched.model.process_latent_in(start), noise, float(sampling.sigma_max), float(sigmas[0]))
    out = comfy.sample.sample_custom(
        patched, torch.zeros_like(start), cfg, comfy.samplers.sampler_object(sampler_name), sigmas, positive, positive,
        patched.model.process_latent_out(x), callback=progress_callback(patched, len(sigmas) - 1),
        disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=seed,
    )
    return {"samples": vp_latent(out, sigmas[-1]) if ends_at_alpha0 else out}
