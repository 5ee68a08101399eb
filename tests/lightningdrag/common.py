"""What the LightningDrag tests share: the small UNet's sizes, and our patches driven the ComfyUI way."""

from __future__ import annotations

import torch
from diffusers import UNet2DConditionModel

import unet_harness as H
from drag_editing_dev.drag.comfy_protocol import install_replace
from drag_editing_dev.drag.lightningdrag import release
from drag_editing_dev.drag.lightningdrag.attention import AppearanceRecorder, DragAttentionWeights, PointEmbeds, sampling_patches

WIDTHS = (32, 32, 32, 32)
LATENT = (16, 16)  # a 128×128 image


def attention_weights(point_attention: dict, ip_projection: dict, ip_layers: dict, **build) -> DragAttentionWeights:
    """:class:`DragAttentionWeights` for the small UNet (``build``: its dtype, device, operations...) loaded
    with the parts the release readers return, as the loader node loads them."""
    weights = DragAttentionWeights(WIDTHS, **build)
    dtype = build.get("dtype")
    state = DragAttentionWeights.state_of(point_attention, ip_projection, ip_layers)
    weights.load_state_dict({k: v if dtype is None else v.to(dtype) for k, v in state.items()})
    return weights.eval()


def main_unet(seed: int = 1) -> UNet2DConditionModel:
    """A small random SD1.5-layout inpainting UNet (9 input channels)."""
    torch.manual_seed(seed)
    config = release.appearance_config(WIDTHS) | {"in_channels": 9}
    return UNet2DConditionModel(**config).eval()


@torch.no_grad()
def bank_of(appearance, source, text):
    """The appearance bank of ``source`` recorded the ComfyUI way (an ``attn1_patch`` on every block)."""
    comfy = H.ComfyStyle(appearance, LATENT)
    recorder = AppearanceRecorder()
    comfy.set_model_attn1_patch(recorder)
    appearance(source, 0, encoder_hidden_states=text)
    return recorder.bank(tuple(source.shape))


@torch.no_grad()
def ours(unet, bank, levels, embeds, text, x, chunks, weights, inner1=None, inner2=None, attn1_patches=()):
    """Our patches installed on ``unet`` as the nodes install them (after ``inner1`` / ``inner2``, another
    pack's replacements, and ``attn1_patches``, another pack's patches), driven on ``chunks(x)``: a list
    of (cond_or_uncond, batch) model calls. Returns the outputs concatenated."""
    comfy = H.ComfyStyle(unet, LATENT)
    for patch in attn1_patches:
        comfy.set_model_attn1_patch(patch)
    self_attention, cross_attention = sampling_patches(weights, bank, PointEmbeds(levels, 128, 128, 2), embeds, H.attention, H.projections(unet))
    for key in self_attention:
        if inner1 is not None:
            comfy.set_model_attn1_replace(inner1, *key)
        if inner2 is not None:
            comfy.set_model_attn2_replace(inner2, *key)
        install_replace(comfy, "attn1", key, self_attention[key])
        install_replace(comfy, "attn2", key, cross_attention[key])
    outs = []
    for chunk_kinds, batch in chunks(x):
        comfy.options["cond_or_uncond"] = chunk_kinds
        outs.append(unet(batch, 500, encoder_hidden_states=text.expand(batch.shape[0], -1, -1)).sample)
    return torch.cat(outs)
