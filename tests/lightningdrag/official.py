"""A transcription of the official LightningDrag reading path (magic-research/LightningDrag, specs/lightningdrag.md),
to test the pack's ComfyUI patches against.

* :func:`install_official`: self-attention over ``[n ; bank]`` with ``q += P(E_tgt)``,
  ``k += [P(E_tgt) ; P(E_hdl)]`` zeroed on ``uc_mask`` rows (``PointEmbeddingAttnProcessor``), and
  ``IPAttnProcessor`` on cross-attention with the 4 image tokens appended to the text (scale 1).
* :func:`record_norm1`: the official bank writer (each transformer block's ``norm1`` output).
"""

from __future__ import annotations

import torch

from unet_harness import heads_attention, transformer_blocks


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
