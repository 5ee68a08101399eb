"""Drive a diffusers UNet the way ComfyUI drives its own, and the way the official LightningDrag code
drives it, to compare our ComfyUI patches with the official processors without ComfyUI.

* :func:`install_comfy_style`: every transformer block's attn1/attn2 runs ComfyUI's sequence
  (``attn1_patch`` list, then an ``attn*_replace`` on projected q/k/v if one is registered for the
  block, else plain attention), with ComfyUI's ``extra_options`` (block, block_index,
  cond_or_uncond, activations_shape, n_heads).
* :func:`install_official`: a transcription of the official reading path: self-attention over
  ``[n ; bank]`` with ``q += P(E_tgt)``, ``k += [P(E_tgt) ; P(E_hdl)]`` zeroed on ``uc_mask`` rows
  (``PointEmbeddingAttnProcessor``), and ``IPAttnProcessor`` on cross-attention with the 4 image
  tokens appended to the text (scale 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from drag_editing_pack_under_test.drag.lightningdrag.layout import TRANSFORMER_BLOCKS


def heads_attention(q, k, v, heads):
    """ComfyUI's attention contract: [B, T, H·D] in, [B, T, H·D] out (before ``to_out``)."""
    b = q.shape[0]
    split = lambda t: t.reshape(b, -1, heads, t.shape[-1] // heads).transpose(1, 2)  # noqa: E731
    return F.scaled_dot_product_attention(split(q), split(k), split(v)).transpose(1, 2).reshape(b, -1, q.shape[-1])


def attention(q, k, v, extra_options):
    """The kernel our patches get (``optimized_attention`` with the block's heads in the nodes)."""
    return heads_attention(q, k, v, extra_options["n_heads"])


def _module(unet, path):
    module = unet
    for part in path.split("."):
        module = getattr(module, part) if not part.isdigit() else module[int(part)]
    return module


def transformer_blocks(unet):
    """(layout block, diffusers BasicTransformerBlock) of the 16 SD1.5 transformer blocks."""
    for block in TRANSFORMER_BLOCKS:
        yield block, _module(unet, block.diffusers).transformer_blocks[0]


class ComfyStyle:
    """Shared per-call options, set by the caller before each UNet call (as ComfyUI's sampler does)."""

    def __init__(self):
        self.options = {"cond_or_uncond": [0]}
        self.attn1_patches = []
        self.attn1_replace = {}
        self.attn2_replace = {}


class _ComfyProcessor:
    def __init__(self, state: ComfyStyle, key, self_attention: bool, hw):
        self.state, self.key, self.self_attention, self.hw = state, key, self_attention, hw

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        b, tokens = hidden_states.shape[:2]
        h, w = self.hw(tokens)
        extra = dict(self.state.options, block=self.key, block_index=0, n_heads=attn.heads,
                     activations_shape=[b, hidden_states.shape[2], h, w])
        n = hidden_states
        if self.self_attention:
            context = value = n
            for patch in self.state.attn1_patches:
                n, context, value = patch(n, context, value, extra)
            replace = self.state.attn1_replace.get(self.key)
        else:
            context = value = encoder_hidden_states
            replace = self.state.attn2_replace.get(self.key)
        q, k, v = attn.to_q(n), attn.to_k(context), attn.to_v(value)
        out = replace(q, k, v, extra) if replace else heads_attention(q, k, v, attn.heads)
        return attn.to_out[1](attn.to_out[0](out))


def projections(unet) -> dict:
    """Each block's self-attention ``to_k`` / ``to_v``, as the nodes hand them to the bank."""
    return {block.key: (lambda r, a=t.attn1: (a.to_k(r), a.to_v(r))) for block, t in transformer_blocks(unet)}


def install_comfy_style(unet, latent_hw) -> ComfyStyle:
    """ComfyUI-style processors on every transformer block of ``unet`` for latents of ``latent_hw``."""
    state = ComfyStyle()
    lh, lw = latent_hw
    for block, transformer in transformer_blocks(unet):
        scale = 2 ** block.level
        hw = lambda tokens, scale=scale: (lh // scale, lw // scale)  # noqa: E731
        transformer.attn1.set_processor(_ComfyProcessor(state, block.key, True, hw))
        transformer.attn2.set_processor(_ComfyProcessor(state, block.key, False, hw))
    return state


class _OfficialSelf:
    def __init__(self, store, block):
        self.store, self.block = store, block

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        n = hidden_states
        context = torch.cat([n, self.store["bank"][self.block.key].expand(n.shape[0], -1, -1)], dim=1)
        q, k, v = attn.to_q(n), attn.to_k(context), attn.to_v(context)
        levels = self.store["levels"]
        lengths = [hd.shape[2] * hd.shape[3] for hd, _ in levels]
        handle, target = levels[lengths.index(n.shape[1])]
        handle = handle.expand(n.shape[0], -1, -1, -1).flatten(2).permute(0, 2, 1)
        target = target.expand(n.shape[0], -1, -1, -1).flatten(2).permute(0, 2, 1)
        weights, i = self.store["weights"], str(self.block.processor_index)
        handle = weights.point_proj[i](weights.point_norm[i](handle))
        target = weights.point_proj[i](weights.point_norm[i](target))
        uc = self.store["uc_mask"]
        handle = torch.where(uc[:, None, None], torch.zeros_like(handle), handle)
        target = torch.where(uc[:, None, None], torch.zeros_like(target), target)
        k = k + torch.cat([target, handle], dim=1)
        q = q + target
        return attn.to_out[1](attn.to_out[0](heads_attention(q, k, v, attn.heads)))


class _OfficialIP:
    def __init__(self, store, block):
        self.store, self.block = store, block

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        text, ip = encoder_hidden_states[:, :-4], encoder_hidden_states[:, -4:]
        q = attn.to_q(hidden_states)
        out = heads_attention(q, attn.to_k(text), attn.to_v(text), attn.heads)
        weights, i = self.store["weights"], str(self.block.processor_index)
        out = out + heads_attention(q, weights.to_k_ip[i](ip), weights.to_v_ip[i](ip), attn.heads)
        return attn.to_out[1](attn.to_out[0](out))


def install_official(unet, store: dict) -> None:
    """The official processors; ``store`` holds ``bank`` (key → [1, L, C]), ``levels``, ``weights``
    and ``uc_mask`` (bool per batch row, True = unconditional)."""
    for block, transformer in transformer_blocks(unet):
        transformer.attn1.set_processor(_OfficialSelf(store, block))
        transformer.attn2.set_processor(_OfficialIP(store, block))


def record_norm1(unet):
    """Forward hooks that collect each transformer block's norm1 output (the official bank writer)."""
    bank, handles = {}, []
    for block, transformer in transformer_blocks(unet):
        handles.append(transformer.norm1.register_forward_hook(lambda m, i, o, key=block.key: bank.__setitem__(key, o)))
    return bank, handles
