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
from torch import Tensor, nn

from ..comfy_protocol import BlockKey, Patch, Placed, activations_hw, add_on_rows, chunks, conditional_rows
from ..errors import DragInputError
from .layout import BY_KEY, TRANSFORMER_BLOCKS, block_key
from .release import CLIP_VISION_DIM, CONTEXT_DIM, IP_TOKENS

Attention = Callable[[Tensor, Tensor, Tensor, dict], Tensor]
"""``attention(q, k, v, extra_options)``: the attention kernel (ComfyUI's ``optimized_attention`` in the nodes)."""


class DragAttentionWeights(nn.Module):
    """The small learned parts used while sampling: per transformer block the point LayerNorm and
    projection (``lightning-drag-sd15-attn.bin``) and IP-Adapter's ``to_k_ip`` / ``to_v_ip``, plus
    IP-Adapter's image projection. Modules are named by the official processor index.

    ``operations`` builds the layers (``torch.nn``, or the ``comfy.ops`` class ComfyUI picks for the
    storage and compute dtypes, whose layers cast their weights to the input and follow low-VRAM
    loading); ``dtype`` / ``device``: where the weights are stored; ``compute_dtype``: the dtype inputs
    are given in (the storage dtype when None; never a storage-only dtype such as fp8).
    """

    def __init__(self, widths: tuple[int, int, int, int], dtype: torch.dtype | None = None, device: Any = None,
                 operations: Any = nn, compute_dtype: torch.dtype | None = None):
        super().__init__()
        self.widths = tuple(widths)
        self.compute_dtype = compute_dtype or dtype or torch.get_default_dtype()
        like = {"dtype": dtype, "device": device}
        ops = operations
        self.point_norm = nn.ModuleDict({str(b.processor_index): ops.LayerNorm(b.embed_dim, **like) for b in TRANSFORMER_BLOCKS})
        self.point_proj = nn.ModuleDict({str(b.processor_index): ops.Linear(b.embed_dim, widths[b.level], bias=False, **like) for b in TRANSFORMER_BLOCKS})
        self.to_k_ip = nn.ModuleDict({str(b.processor_index): ops.Linear(CONTEXT_DIM, widths[b.level], bias=False, **like) for b in TRANSFORMER_BLOCKS})
        self.to_v_ip = nn.ModuleDict({str(b.processor_index): ops.Linear(CONTEXT_DIM, widths[b.level], bias=False, **like) for b in TRANSFORMER_BLOCKS})
        self.image_proj = ops.Linear(CLIP_VISION_DIM, IP_TOKENS * CONTEXT_DIM, **like)
        self.image_norm = ops.LayerNorm(CONTEXT_DIM, **like)

    @staticmethod
    def state_of(point_attention: dict, ip_projection: dict, ip_layers: dict) -> dict[str, Tensor]:
        """The state dict of these modules from what :mod:`.release` read (``read_point_attention``,
        ``read_ip_adapter``), for ``load_state_dict`` (which ComfyUI's layers need to be loaded through)."""
        state = {f"image_proj.{k}": ip_projection[f"proj.{k}"] for k in ("weight", "bias")}
        state |= {f"image_norm.{k}": ip_projection[f"norm.{k}"] for k in ("weight", "bias")}
        for block in TRANSFORMER_BLOCKS:
            i = str(block.processor_index)
            state |= {
                f"point_norm.{i}.weight": point_attention[block.key]["norm.weight"],
                f"point_norm.{i}.bias": point_attention[block.key]["norm.bias"],
                f"point_proj.{i}.weight": point_attention[block.key]["proj.weight"],
                f"to_k_ip.{i}.weight": ip_layers[block.key]["to_k_ip"],
                f"to_v_ip.{i}.weight": ip_layers[block.key]["to_v_ip"],
            }
        return state

    def _input(self, x: Tensor, device: torch.device) -> Tensor:
        return x.to(device=device, dtype=self.compute_dtype)

    def image_tokens(self, image_embeds: Tensor, device: torch.device) -> Tensor:
        """IP-Adapter's 4 image tokens [B, 4, 768] from CLIP-vision ``image_embeds`` [B, 1024], computed on
        ``device`` in the compute dtype."""
        tokens = self.image_proj(self._input(image_embeds, device)).reshape(-1, IP_TOKENS, CONTEXT_DIM)
        return self.image_norm(tokens)

    def point_term(self, block: BlockKey, embedding: Tensor, like: Tensor) -> Tensor:
        """P(E) = W · LN(E) for ``embedding`` [B, L, embed_dim] at ``block``, on ``like``'s device and in its dtype."""
        i = str(BY_KEY[block].processor_index)
        return self.point_proj[i](self.point_norm[i](self._input(embedding, like.device))).to(like.dtype)

    def image_keys_values(self, block: BlockKey, tokens: Tensor, like: Tensor) -> tuple[Tensor, Tensor]:
        """IP-Adapter's keys and values [B, 4, width] of the image ``tokens`` at ``block``, like ``like``."""
        i = str(BY_KEY[block].processor_index)
        tokens = self._input(tokens, like.device)
        return self.to_k_ip[i](tokens).to(like.dtype), self.to_v_ip[i](tokens).to(like.dtype)


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

    def bank(self, latent_shape: tuple[int, ...], source: Tensor | None = None, conditioning: Any = None,
             device: Any = None) -> AppearanceBank:
        """The bank of what was recorded, kept on ``device`` (where it was recorded when None)."""
        missing = [b.key for b in TRANSFORMER_BLOCKS if b.key not in self.states]
        if missing:
            raise DragInputError(
                f"release: its appearance encoder's transformer blocks {missing[:4]} never ran; it must have the SD1.5 "
                "UNet layout of the LightningDrag release."
            )
        states = {b.key: self.states[b.key] if device is None else self.states[b.key].to(device) for b in TRANSFORMER_BLOCKS}
        return AppearanceBank(states, tuple(latent_shape), source, conditioning)


def _level(inputs: Placed, key: BlockKey, extra_options: dict) -> int:
    """The point-embedding level of block ``key`` (its place in the SD1.5 layout), after checking that the
    embedding there has the block's resolution (``activations_shape``). The level is not looked up by size:
    on a small image the deepest levels are all 1×1."""
    level = BY_KEY[key].level
    hw = activations_hw(extra_options)
    if tuple(inputs.levels[level][0].shape[-2:]) != hw:
        sizes = [tuple(h.shape[-2:]) for h, _ in inputs.levels]
        raise DragInputError(
            f"point_embeds: UNet block {key} works at {hw} but the point embeddings have sizes {sizes} (made for a "
            f"{inputs.size[0]}×{inputs.size[1]} image). Run PointEmbed at the size of the image being edited."
        )
    return level


def _rows(batch: int, *tensors: Tensor) -> tuple[Tensor, ...]:
    """Each of ``tensors`` ([1, T, C]) as ``batch`` rows, as views (kept per batch size, so no call makes them)."""
    return tuple(t.expand(batch, -1, -1) for t in tensors)


@dataclass(frozen=True)
class _SelfTerms:
    """What one block's self-attention adds, fixed for a sampling run (on the activations' device and dtype):
    the bank's keys and values [1, T_bank, C] and the point terms P(E_tgt) [1, T, C], P(E_hdl) [1, T_bank, C]."""

    k_bank: Tensor
    v_bank: Tensor
    p_target: Tensor
    p_handle: Tensor


class PointSelfAttention(Patch):
    """LightningDrag's self-attention in one transformer block of the main UNet, as an ``attn1`` replacement.

    Keys and values also see the block's appearance bank r, projected by the block's own ``to_k`` /
    ``to_v`` (``project(r) -> (W_k r, W_v r)``, so weight patches such as a LoRA reach it); the point
    terms are added to q and k on conditional rows. Tokens that another pack's ``attn1_patch`` put
    between the block's own and the bank keep their keys unchanged. ``inner``: another pack's
    replacement of this block, called on the result in place of plain attention.

    The projected bank and the point terms are computed on the first model call of a run and kept in
    ``inputs`` (:meth:`..comfy_protocol.Placed.once`), so a call adds four kernels to plain attention.
    """

    def __init__(self, key: BlockKey, weights: DragAttentionWeights, inputs: Placed,
                 project: Callable[[Tensor], tuple[Tensor, Tensor]], attention: Attention,
                 owners: tuple = (), inner: Callable | None = None):
        self.key, self.weights, self.inputs, self.project, self.attention = key, weights, inputs, project, attention
        self.owners, self.inner = owners, inner

    def _check(self, q: Tensor, k: Tensor) -> None:
        stored = self.inputs.bank[self.key]
        if stored.shape[1:] != q.shape[1:]:
            raise DragInputError(
                f"appearance: block {self.key} sees {q.shape[1]} positions with {q.shape[2]} channels, but the appearance "
                f"bank has {stored.shape[1]} with {stored.shape[2]} (encoded from a latent of shape {list(self.inputs.latent_shape)}). "
                "Encode the same source image, at the size being edited, with the LightningDrag release that matches this model."
            )
        if k.shape[1] < q.shape[1]:
            raise DragInputError(
                f"model: another patch on block {self.key} left its self-attention {k.shape[1]} keys for {q.shape[1]} positions; "
                "LightningDrag needs the block's own keys. Remove that patch from the model given to DragKSampler."
            )

    def _terms(self, q: Tensor, level: int) -> _SelfTerms:
        k_bank, v_bank = self.project(self.inputs.bank[self.key].to(device=q.device, dtype=q.dtype))
        handle, target = (e.flatten(2).transpose(1, 2) for e in self.inputs.levels[level])
        return _SelfTerms(k_bank, v_bank, self.weights.point_term(self.key, target, q), self.weights.point_term(self.key, handle, q))

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, extra_options: dict) -> Tensor:
        self._check(q, k)
        once = self.inputs.once
        t = once((self.key, "terms", q.device, q.dtype), lambda: self._terms(q, _level(self.inputs, self.key, extra_options)))
        between = k.shape[1] - q.shape[1]
        p_keys = once((self.key, "key terms", between, q.device, q.dtype), lambda: torch.cat(
            [t.p_target, t.p_target.new_zeros(1, between, t.p_target.shape[2]), t.p_handle], dim=1))
        layout = (chunks(extra_options), q.shape[0], q.device, q.dtype)
        rows = once(("rows", *layout), lambda: conditional_rows(extra_options, q))
        k_bank, v_bank = once((self.key, "bank rows", *layout), lambda: _rows(q.shape[0], t.k_bank, t.v_bank))
        q = add_on_rows(q, t.p_target, rows)
        k = add_on_rows(torch.cat([k, k_bank], dim=1), p_keys, rows)
        v = torch.cat([v, v_bank], dim=1)
        return self.attend(self.attention, q, k, v, extra_options)


class ImagePromptAttention(Patch):
    """IP-Adapter's decoupled image attention in one transformer block, as an ``attn2`` replacement:
    the text attention (``inner``'s, when another pack replaced it) plus attention over the 4 image
    tokens, for both CFG halves. The image tokens' keys and values are computed once per run."""

    def __init__(self, key: BlockKey, weights: DragAttentionWeights, inputs: Placed, attention: Attention,
                 owners: tuple = (), inner: Callable | None = None):
        self.key, self.weights, self.inputs, self.attention = key, weights, inputs, attention
        self.owners, self.inner = owners, inner

    def __call__(self, q: Tensor, k: Tensor, v: Tensor, extra_options: dict) -> Tensor:
        once = self.inputs.once
        tokens = once(("image tokens", q.device), lambda: self.weights.image_tokens(self.inputs.image_embeds, q.device))
        k_ip, v_ip = once((self.key, "image", q.device, q.dtype), lambda: self.weights.image_keys_values(self.key, tokens, q))
        k_ip, v_ip = once((self.key, "image rows", q.shape[0], q.device, q.dtype), lambda: _rows(q.shape[0], k_ip, v_ip))
        text = self.attend(self.attention, q, k, v, extra_options)
        return text + self.attention(q, k_ip, v_ip, extra_options)  # IP-Adapter weight 1, as official


Maker = Callable[[Callable | None], Patch]
"""``make(inner)``: our replacement of one block, chaining ``inner`` (see :func:`..comfy_protocol.install_replace`)."""


def sampling_patches(
    weights: DragAttentionWeights,
    bank: AppearanceBank,
    embeds: PointEmbeds,
    image_embeds: Tensor,
    attention: Attention,
    projections: dict[BlockKey, Callable[[Tensor], tuple[Tensor, Tensor]]],
    owners: tuple = (),
) -> tuple[dict[BlockKey, Maker], dict[BlockKey, Maker]]:
    """Per transformer block, the makers of the ``attn1`` (appearance bank and point terms) and ``attn2``
    (IP-Adapter) replacements that make an SD1.5 inpainting UNet LightningDrag's main UNet.

    ``image_embeds``: [1, 1024] CLIP-vision embeddings of the source image, whose IP-Adapter tokens
    every candidate and both CFG halves share, as in the official pipeline. ``projections[key]``:
    the block's self-attention ``to_k`` and ``to_v``. ``owners``: the ModelPatchers holding
    ``weights``, loaded with the model. All blocks share one holder of the inputs, moved once, which
    also keeps what each block computes once per run (drop it with ``forget()`` when a run ends).
    """
    inputs = Placed(bank=bank.states, levels=embeds.levels, image_embeds=image_embeds,
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
