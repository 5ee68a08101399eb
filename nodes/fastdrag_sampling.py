"""ComfyUI glue for FastDrag's inversion and sampling: the method code of ``drag/fastdrag`` run through
ComfyUI's own sampling (model loading and offloading, dtype policy, attention kernel, conds,
progress bar with previews, interruption)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import comfy.model_management
import comfy.model_sampling
import comfy.sample
import comfy.samplers
import comfy.utils
import torch
from comfy.patcher_extension import WrappersMP

from ..drag.errors import DragInputError
from ..drag.fastdrag.architectures import check_family, record_bytes, record_storage, supported_list
from ..drag.fastdrag.inversion import sample_fastdrag_inversion
from ..drag.fastdrag.kv import ConsistencyPatch, DragKV, KVRecorder, check_latent
from ..drag.comfy_protocol import attention_patches, refuse_split_across_devices
from ..drag.schedule import fastdrag_timesteps, vp_latent
from .comfy_sampling import check_conditioning, empty_prompt, latent_samples, progress_callback, sigma_table

WRAPPER_KEY = "drag_editing.fastdrag_consistency"


def checked_sigmas(model) -> torch.Tensor:
    """The model's sigma for each of its 1000 training timesteps; refuses models FastDrag cannot run on
    (decided from the model config ComfyUI detected from the UNet, and from its sampling)."""
    ms = comfy.model_sampling
    family = type(model.model.model_config).__name__
    check_family(family, type(model.model).__name__, model.model.model_config.unet_config.get("in_channels", 4))
    sampling = model.get_model_object("model_sampling")
    table = sigma_table(model)
    usable = table is not None and isinstance(sampling, ms.EPS) and not isinstance(sampling, (ms.ModelSamplingDiscreteEDM, ms.EDM))
    if not usable:  # epsilon or v prediction on the 1000 discrete timesteps of the SD family
        raise DragInputError(
            f"model: FastDrag samples on the 1000 discrete timesteps of the SD family with ε or v prediction, but this "
            f"{family} model samples with {type(sampling).__name__}. Give FastDrag the model before the node that "
            f"changed its sampling (e.g. ModelSamplingSD3, ModelSamplingDiscrete with lcm). Supported: {supported_list()}."
        )
    return table


def device_budget(model, shape: torch.Size | tuple[int, ...], free: int) -> int:
    """What a device with ``free`` bytes free can spare for the K/V record once ComfyUI has loaded the
    model's weights that are not loaded yet and set aside its sampling work for latents of ``shape``."""
    return (
        free + model.loaded_size() - model.model_size() - model.memory_required(shape)
        - comfy.model_management.minimum_inference_memory()
    )


def _record_storage(model, shape: torch.Size, steps: int, offload: bool) -> str | None:
    """Where the inversion keeps its K/V record (None: the UNet's device), decided before it starts.

    The record waits between nodes where ComfyUI keeps node outputs: system memory, unless ComfyUI keeps
    them on the GPU (``--gpu-only``) and the record fits there beside the model; ``offload``
    (offload_kv) asks for system memory in every case. From system memory, sampling copies each step's
    part in while the step before it computes.
    """
    base = model.model
    dtype = getattr(base, "manual_cast_dtype", None) or base.get_dtype()
    record = record_bytes(base.model_config.unet_config, tuple(shape), steps, dtype.itemsize)
    device = model.load_device
    host_free = comfy.model_management.get_free_memory(torch.device("cpu"))
    stays_on_device = device.type != "cpu" and comfy.model_management.intermediate_device() == device
    budget = device_budget(model, shape, comfy.model_management.get_free_memory(device)) if stays_on_device else None
    where = record_storage(record, budget, host_free, offload)
    if where == "cpu" and budget is not None and not offload:
        logging.warning(
            f"FastDragInvert: the K/V record ({record / 2**20:.0f} MiB) would not fit on {device} beside the model "
            f"({max(budget, 0) / 2**20:.0f} MiB to spare); keeping it in system memory, as offload_kv does."
        )
    return "cpu" if where == "cpu" else None


def invert(model, latent: dict, positive: list, steps: int, strength: float, offload: bool) -> tuple[dict, DragKV]:
    """FastDrag's DDIM inversion of ``latent`` (guidance 1, as the official code), recording the decoder
    self-attention inputs. Returns the noisy LATENT at the warp timestep and the DRAG_KV."""
    table = checked_sigmas(model)
    check_conditioning(model, positive, "positive")
    refuse_split_across_devices(model.model_options, "FastDragInvert")
    samples = latent_samples(latent, model)
    timesteps = fastdrag_timesteps(steps, strength)
    sampling_sigmas = table[timesteps + [0]]  # [sigma(601), ..., sigma(1), sigma(0)]: the official DDIM end
    recorder = KVRecorder(len(timesteps), _record_storage(model, samples.shape, len(timesteps), offload))
    patched = model.clone()
    patched.set_model_attn1_patch(recorder)
    noisy = comfy.sample.sample_custom(
        patched, torch.zeros_like(samples), 1.0, comfy.samplers.KSAMPLER(sample_fastdrag_inversion),
        sampling_sigmas.flip(0), positive, positive, samples,
        callback=progress_callback(patched, len(timesteps)), disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=0,
    )
    kv = recorder.finish(
        timesteps=tuple(timesteps), sigmas=sampling_sigmas[:-1].clone(), final_sigma=float(sampling_sigmas[-1]),
        sigma_table=table, total_steps=steps, strength=strength, latent_shape=tuple(samples.shape),
        conditioning=positive,
    )
    device = next(iter(kv.states.values())).device
    logging.info(f"FastDragInvert: K/V record of {len(kv.states)} layers × {len(timesteps)} steps, {kv.nbytes / 2**20:.1f} MiB on {device}")
    return {**latent, "samples": noisy}, kv


def with_consistency(model, kv: DragKV):
    """A clone of ``model`` whose sampling reuses ``kv``'s self-attention keys and values (any sampler node).

    Other nodes' patches stay and run with it; a second FastDrag record is refused, since both would
    set the same layers' keys and values and only the last would count.
    """
    installed = attention_patches(model, "attn1_patch")
    if any(isinstance(p, ConsistencyPatch) for p in installed):
        raise DragInputError(
            "model: it already reuses the keys and values of a FastDrag inversion (a FastDragConsistency node is "
            "upstream). Two records would set the same self-attention layers; give this node the model from before "
            "that FastDragConsistency, or turn consistency off here."
        )
    refuse_split_across_devices(model.model_options, "FastDragConsistency")
    checked_sigmas(model)
    patch = ConsistencyPatch(kv)
    patched = model.clone()
    patched.set_model_attn1_patch(patch)
    patched.add_wrapper_with_key(WrappersMP.OUTER_SAMPLE, WRAPPER_KEY, patch.outer_sample)
    return patched


@dataclass(frozen=True)
class TextGuidance:
    """FastDragKSampler's text guidance: ``cfg`` (FastDrag's own is 1) and the conditionings; ``positive`` None is
    the inversion's prompt, and ``negative`` is needed only when cfg is not 1."""

    cfg: float = 1.0
    positive: list | None = None
    negative: list | None = None


def sample(model, kv: DragKV, latent: dict, consistency: bool, sampler_name: str, seed: int, text: TextGuidance = TextGuidance()) -> dict:
    """Sample the warped latent back from the warp timestep on the inversion's schedule.

    Ends, as FastDrag does, at alphas_cumprod[0] and returns that (diffusers-style) latent, which is
    what the official pipeline decodes.
    """
    checked_sigmas(model)
    samples = latent_samples(latent, model)
    check_latent(kv, samples.shape)
    cfg = text.cfg
    positive = kv.conditioning if text.positive is None else text.positive
    check_conditioning(model, positive, "positive")
    negative = text.negative
    if negative is not None:
        check_conditioning(model, negative, "negative")
    if negative is None:
        if cfg != 1.0:
            raise DragInputError(
                f"negative: cfg is {cfg}, which needs a negative conditioning; connect one (FastDrag's own "
                "guidance is 1.0, which needs none)."
            )
        negative = positive  # never evaluated at cfg 1
    patched = with_consistency(model, kv) if consistency else model
    sigmas = kv.sampling_sigmas()
    out = comfy.sample.sample_custom(
        patched, torch.zeros_like(samples), cfg, comfy.samplers.sampler_object(sampler_name), sigmas, positive, negative,
        samples, noise_mask=latent.get("noise_mask"), callback=progress_callback(patched, len(sigmas) - 1),
        disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=seed,
    )
    return {**latent, "samples": vp_latent(out, kv.final_sigma)}


def conditioning_or_empty(positive: list | None, clip: Any) -> list:
    if positive is not None:
        return positive
    if clip is None:
        raise DragInputError(
            "positive: FastDragInvert needs a text conditioning. Connect positive (e.g. CLIPTextEncode with an "
            "empty prompt, the official default) or clip (the empty prompt is then encoded with it)."
        )
    return empty_prompt(clip)
