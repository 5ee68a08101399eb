"""Inversion with the K/V record and sampling with its patch, on a diffusers UNet driven the ComfyUI way
(tests/unet_harness.py), for the K/V and architecture tests."""

import torch

import unet_harness as H
from drag_editing_dev.drag.fastdrag.inversion import sample_fastdrag_inversion
from drag_editing_dev.drag.fastdrag.kv import ConsistencyPatch, KVRecorder
from drag_editing_dev.drag.schedule import fastdrag_timesteps

from .conftest import STEPS, STRENGTH


def comfy_style(unet, model, patches, latent_hw=(16, 16)):
    """``unet`` run the ComfyUI way on latents of ``latent_hw`` with ``patches`` as its attn1 patches, ``model`` calling it."""
    comfy = H.ComfyStyle(unet, latent_hw)
    for patch in patches:
        comfy.set_model_attn1_patch(patch)
    model.options = comfy.options


def schedules(model, steps=STEPS, strength=STRENGTH):
    """FastDrag's timesteps and the inversion's and sampling's sigmas for them, on ``model``'s table."""
    timesteps = fastdrag_timesteps(steps, strength)
    inversion_sigmas = torch.stack([model.sigma(0)] + [model.sigma(t) for t in reversed(timesteps)])
    sampling_sigmas = torch.stack([model.sigma(t) for t in timesteps] + [model.sigma(0)])
    return timesteps, inversion_sigmas, sampling_sigmas


def invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas, storage=None):
    recorder = KVRecorder(len(timesteps), storage)
    comfy_style(unet, model, [recorder], tuple(z0.shape[-2:]))
    x = sample_fastdrag_inversion(model, z0, inversion_sigmas)
    kv = recorder.finish(
        timesteps=tuple(timesteps), sigmas=sampling_sigmas[:-1].clone(), final_sigma=float(sampling_sigmas[-1]),
        sigma_table=model.sigma_table, total_steps=STEPS, strength=STRENGTH, latent_shape=tuple(z0.shape),
    )
    return x, kv


def sample_with(unet, model, kv, x, sampling_sigmas, after=()):
    """Sample ``x`` on ``sampling_sigmas`` with ``kv``'s consistency patch, then the attn1 patches ``after``."""
    patch = ConsistencyPatch(kv)
    comfy_style(unet, model, [patch, *after], tuple(x.shape[-2:]))
    sample = lambda noise, latent, sampler, sigmas, mask, callback: H.sample_euler(model, x, sigmas, callback)  # noqa: E731
    return patch.outer_sample(sample, None, x, None, sampling_sigmas)


def sharpen_self_attention(unet, factor=10.0, gain=1.0):
    """Scale the decoder self-attention query/key weights by ``factor``: random weights give near-uniform
    attention, where keys and values hardly matter; trained models attend sharply. ``gain`` scales the
    attention's output projection: SDXL's deep random stacks otherwise add little of it to the residual."""
    for _, attn1 in H.decoder_self_attentions(unet):
        attn1.to_q.weight.mul_(factor)
        attn1.to_k.weight.mul_(factor)
        attn1.to_out[0].weight.mul_(gain)
