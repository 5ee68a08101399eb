"""LightningDrag's attention terms as ComfyUI attention patches (no ComfyUI import needed).

In every self-attention of the main (inpainting) UNet, on the block's normalised input n, one
``attn1`` replacement per block (:class:`PointSelfAttention`):

* keys and values also see the appearance bank r of the same block:
  k = [W_k n ; W_k r], v = [W_v n ; W_v r], with the block's own projections;
* the point terms P(E) = W_l · LN_l(E) are added after projection:
  q += P(E_tgt), k += [P(E_tgt) ; P(E_hdl)], for conditional chunks only (the unconditional half of
  point-following CFG is the same model with these terms exactly 0).

In every cross-attention the IP-Adapter image tokens c_ip add a second attention (an ``attn2``
replacement, :class:`ImagePromptAttention`): out = attn(q, k, v) + attn(q, W_k^ip c_ip, W_v^ip c_ip),
for both halves.

Both chain the replacement another pack put on the block (:mod:`..comfy_protocol`), so the bank lives in
the replacement rather than in an ``attn1_patch``: a node that swaps a block's attention for one pass
(PerturbedAttentionGuidance) then gets that block's own tokens, as on any other model.

ComfyUI's patch protocols: ``attn1_patch(n, context, value, extra_options) -> (n, context, value)``;
``attn*_replace(q, k, v, extra_options) -> out`` (before ``to_out``); ``extra_options`` carries
``block``, ``block_index``, ``cond_or_uncond`` (per batch chunk: 0 = conditional, 1 = unconditional,
in any order), ``activations_shape`` and ``n_heads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..comfy_protocol import BlockKey, Patch, Placed, add_to_conditional
from ..errors import DragInputError
from .layout import BY_KEY, TRANSFORMER_BLOCKS, block_key
from .release import CLIP_VISION_DIM, CONTEXT_DIM, IP_TOKENS

Attention = Callable[[Tensor, Tensor, Tensor, dict], Tensor]
"""``attention(q, k, v, extra_options)``: the attention kernel (ComfyUI's ``optimized_attention`` in the nodes)."""


class DragAttentionWeights(nn.Module):
    """The small learned parts used while sampling: per transformer block the point LayerNorm and
    projection (``lightning-drag-sd15-attn.bin``) and IP-Adapter's ``to_k_ip`` / ``to_v_ip``, plus
    IP-Adapter's image projection. Modules are named by the official processor index."""

    def __init__(self, widths: tuple[int, int, int, int]):
        super().__init__()
        self.widths = tuple(widths)
        self.point_norm = nn.ModuleDict({str(b.processor_index): nn.LayerNorm(b.embed_dim) for b in TRANSFORMER_BLOCKS})
        self.point_proj = nn.ModuleDict({str(b.processor_index): nn.Linear(b.embed_dim, widths[b.level], bias=False) for b in TRANSFORMER_BLOCKS})
        self.to_k_ip = nn.ModuleDict({str(b.processor_index): nn.Linear(CONTEXT_DIM, widths[b.level], bias=False) for b in TRANSFORMER_BLOCKS})
        self.to_v_ip = nn.ModuleDict({str(b.processor_index): nn.Linear(CONTEXT_DIM, widths[b.level], bias=False) for b in TRANSFORMER_BLOCKS})
        self.image_proj = nn.Linear(CLIP_VISION_DIM, IP_TOKENS * CONTEXT_DIM)
        self.image_norm = nn.LayerNorm(CONTEXT_DIM)

    @torch.no_grad()
    def load(self, point_attention: dict, ip_projection: dict, ip_layers: dict) -> "DragAttentionWeights":
        """Copy in what :mod:`.release` read (``read_point_attention``, ``read_ip_adapter``)."""
        for block in TRANSFORMER_BLOCKS:
            i = str(block.processor_index)
            self.point_norm[i].weight.copy_(point_attention[block.key]["norm.weight"])
            self.point_norm[i].bias.copy_(point_attention[block.key]["norm.bias"])
            self.point_proj[i].weight.copy_(point_attention[block.key]["proj.weight"])
            self.to_k_ip[i].weight.copy_(ip_layers[block.key]["to_k_ip"])
            self.to_v_ip[i].weight.copy_(ip_layers[block.key]["to_v_ip"])
        self.image_proj.weight.copy_(ip_projection["proj.weight"])
        self.image_proj.bias.copy_(ip_projection["proj.bias"])
        self.image_norm.weight.copy_(ip_projection["norm.weight"])
        self.image_norm.bias.copy_(ip_projection["norm.bias"])
        return self

    def image_tokens(self, image_embeds: Tensor) -> Tensor:
        """IP-Adapter's 4 image tokens [B, 4, 768] from CLIP-vision ``image_embeds`` [B, 1024]."""
        w = self.image_proj.weight
        tokens = self.image_proj(image_embeds.to(w.device, w.dtype)).reshape(-1, IP_TOKENS, CONTEXT_DIM)
        return self.image_norm(tokens)

    def point_term(self, block: BlockKey, embedding: Tensor) -> Tensor:
        """P(E) = W · LN(E) for ``embedding`` [B, L, embed_dim] at ``block``, in the embedding's dtype."""
        i = str(BY_KEY[block].processor_index)
        norm, proj = self.point_norm[i], self.point_proj[i]
        like = dict(device=embedding.device, dtype=embedding.dtype)
        normed = F.layer_norm(embedding, norm.normalized_shape, norm.weight.to(**like), norm.bias.to(**like), norm.eps)
        return F.linear(normed, proj.weight.to(**like))


@dataclass(frozen=True, eq=False)
class AppearanceBank:
    """DRAG_APPEARANCE: the appearance encoder's self-attention inputs for one source latent.

    ``states[key]``: [1, h_l·w_l, C_l] per transformer block (ComfyUI key, e.g. ("input", 1));
    ``latent_shape``: [1, 4, h, w] of the source latent; ``source``: that latent (raw VAE scale),
    which sampling also starts from; ``conditioning``: the empty-prompt conditioning it was encoded
    with (the official main UNet uses the same text).
    """

    states: dict[BlockKey, Tensor]
    latent_shape: tuple[int, ...]
    source: Tensor | None = None
    conditioning: Any = None

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.states.values())


@dataclass(frozen=True, eq=False)
class PointEmbeds:
    """DRAG_POINT_EMBEDS: per level 0-3, the (handle, target) point embeddings [1, C_l, h_l, w_l] of the
    drag pairs drawn on a ``width`` × ``height`` image."""

    levels: list[tuple[Tensor, Tensor]]
    width: int
    height: int
    pairs: int


class AppearanceRecorder:
    """An ``attn1_patch`` that records each transformer block's self-attention input (the bank)."""

    def __init__(self) -> None:
        self.states: dict[BlockKey, Tensor] = {}

    def __call__(self, n: Tensor, context: Tensor, value: Tensor, extra_options: dict):
        key = block_key(extra_options)
        if key in BY_KEY:
            self.states[key] = n
        return n, context, value

    def bank(self, latent_shape: tuple[int, ...], source: Tensor | None = None, conditioning: Any = None) -> AppearanceBank:
        missing = [b.key for b in TRANSFORMER_BLOCKS if b.key not in self.states]
        if missing:
            raise DragInputError(
                f"release: its appearance encoder's transformer blocks {missing[:4]} never ran; it must have the SD1.5 "
                "UNet layout of the LightningDrag release."
            )
        return AppearanceBank({b.key: self.states[b.key] for b in TRANSFORMER_BLOCKS}, tuple(latent_shape), source, conditioning)


def _level(inputs: Placed, extra_options: dict) -> int:
    """The point-embedding level at the resolution of the calling block (``activations_shape``)."""
    hw = tuple(extra_options["activations_shape"][-2:])
    for level, (handle, _) in enumerate(inputs.levels):
        if tuple(handle.shape[-2:]) == hw:
            return level
    sizes = [tuple(h.shape[-2:]) for h, _ in inputs.levels]
    raise DragInputError(
        f"point_embeds: a UNet block works at {hw} but the point embeddings have sizes {sizes} (made for a "
        f"{inputs.size[0]}×{inputs.size[1]} image). Run PointEmbed at the size of the image being edited."
    )


class PointSelfAttention(Patch):
    """LightningDrag's self-attention in one transformer block of the main UNet, as an ``attn1`` replacement.

    Keys and values also see the block's appearance bank r, projected by the block's own ``to_k`` /
    ``to_v`` (``project(r) -> (W_k r, W_v r)``, so weight patches such as a LoRA reach it); the point
    terms are added to q and k on conditional rows. Tokens that another pack's ``attn1_patch`` put
    between the block's own and the bank keep their keys unchanged. ``inner``: another pack's
    replacement of this block, called on the result in place of plain attention.
    """

    def __init__(self, key: BlockKey, weights: DragAttentionWeights, inputs: Placed,
                 project: Callable[[Tensor], tuple[Tensor, Tensor]], attention: Attention,
                 owners: tuple = (), inner: Callable | None = None):
        self.key, self.weights, self.inputs, self.project, self.attention = key, weights, inputs, project, attention
        self.owners, self.inner = owners, inner

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, extra_options: dict) -> Tensor:
        stored = self.inputs.bank[self.key]
        if stored.shape[1:] != q.shape[1:]:
            raise DragInputError(
                f"appearance: block {self.key} sees {q.shape[1]} positions with {q.shape[2]} channels, but the appearance "
                f"bank has {stored.shape[1]} with {stored.shape[2]} (encoded from a latent of shape {list(self.inputs.latent_shape)}). "
                "Encode the same source image, at the size being edited, with the LightningDrag release that matches this model."
            )
        batch, tokens = q.shape[:2]
        if k.shape[1] < tokens:
            raise DragInputError(
                f"model: another patch on block {self.key} left its self-attention {k.shape[1]} keys for {tokens} positions; "
                "LightningDrag needs the block's own keys. Remove that patch from the model given to DragKSampler."
            )
        k_bank, v_bank = self.project(stored.to(device=q.device, dtype=q.dtype))
        k = torch.cat([k, k_bank.expand(batch, -1, -1)], dim=1)
        v = torch.cat([v, v_bank.expand(batch, -1, -1)], dim=1)

        level = _level(self.inputs, extra_options)
        handle, target = (e.to(device=q.device, dtype=q.dtype).flatten(2).transpose(1, 2) for e in self.inputs.levels[level])
        p_target, p_handle = self.weights.point_term(self.key, target), self.weights.point_term(self.key, handle)
        between = p_target.new_zeros(1, k.shape[1] - 2 * tokens, p_target.shape[2])
        q = add_to_conditional(q, extra_options, p_target)
        k = add_to_conditional(k, extra_options, torch.cat([p_target, between, p_handle], dim=1))
        return self.attend(self.attention, q, k, v, extra_options)


class ImagePromptAttention(Patch):
    """IP-Adapter's decoupled image attention in one transformer block, as an ``attn2`` replacement:
    the text attention (``inner``'s, when another pack replaced it) plus attention over the 4 image
    tokens, for both CFG halves."""

    def __init__(self, key: BlockKey, weights: DragAttentionWeights, inputs: Placed, attention: Attention,
                 owners: tuple = (), inner: Callable | None = None):
        self.key, self.weights, self.inputs, self.attention = key, weights, inputs, attention
        self.owners, self.inner = owners, inner

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, extra_options: dict) -> Tensor:
        i = str(BY_KEY[self.key].processor_index)
        tokens = self.inputs.image_tokens.to(device=q.device, dtype=q.dtype)
        k_ip = F.linear(tokens, self.weights.to_k_ip[i].weight.to(q)).expand(q.shape[0], -1, -1)
        v_ip = F.linear(tokens, self.weights.to_v_ip[i].weight.to(q)).expand(q.shape[0], -1, -1)
        text = self.attend(self.attention, q, k, v, extra_options)
        return text + self.attention(q, k_ip, v_ip, extra_options)  # IP-Adapter weight 1, as official


Maker = Callable[[Callable | None], Patch]
"""``make(inner)``: our replacement of one block, chaining ``inner`` (see :func:`..comfy_protocol.install_replace`)."""


def sampling_patches(
    weights: DragAttentionWeights,
    bank: AppearanceBank,
    embeds: PointEmbeds,
    image_tokens: Tensor,
    attention: Attention,
    projections: dict[BlockKey, Callable[[Tensor], tuple[Tensor, Tensor]]],
    owners: tuple = (),
) -> tuple[dict[BlockKey, Maker], dict[BlockKey, Maker]]:
    """Per transformer block, the makers of the ``attn1`` (appearance bank and point terms) and ``attn2``
    (IP-Adapter) replacements that make an SD1.5 inpainting UNet LightningDrag's main UNet.

    ``image_tokens``: [1, 4, 768] from :meth:`DragAttentionWeights.image_tokens` (one source image,
    shared by every candidate and both CFG halves, as in the official pipeline). ``projections[key]``:
    the block's self-attention ``to_k`` and ``to_v``. ``owners``: the ModelPatchers holding
    ``weights``, loaded with the model. All blocks share one holder of the inputs, moved once.
    """
    inputs = Placed(bank=bank.states, levels=embeds.levels, image_tokens=image_tokens,
                    latent_shape=bank.latent_shape, size=(embeds.width, embeds.height))
    self_attention = {
        b.key: (lambda inner, key=b.key: PointSelfAttention(key, weights, inputs, projections[key], attention, owners, inner))
        for b in TRANSFORMER_BLOCKS
    }
    cross_attention = {
        b.key: (lambda inner, key=b.key: ImagePromptAttention(key, weights, inputs, attention, owners, inner))
        for b in TRANSFORMER_BLOCKS
    }
    return self_attention, cross_attention
