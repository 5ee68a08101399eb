"""Drive a small diffusers SD1.5-layout UNet the way ComfyUI drives its own, for the pure tests of both methods.

This is not ComfyUI (tests/integration uses the real one): it lets the method code's patches, inversion and
sampling be checked against the official formulas on a real UNet architecture without ComfyUI.

* :class:`ComfyStyle`: the part of ComfyUI that the pack's patches meet. It holds ``model_options`` the
  way ``ModelPatcher`` does, with its setters (:class:`PatcherOptions`, alone for tests without a UNet), so :func:`drag.comfy_protocol.install_replace` works on it;
  every transformer block's self- and cross-attention runs ComfyUI's sequence (the ``attn1_patch`` list,
  then the replacement the block looks up as ComfyUI does, or plain attention), with ComfyUI's
  ``extra_options`` (block, block_index, n_heads, activations_shape, and the per-call ``options``:
  sigmas, cond_or_uncond).
* :class:`Denoiser`: ComfyUI's view of an EPS model, ``model(x, sigma) -> denoised`` in the
  variance-exploding parameterisation, on the official DDIM schedule; :func:`sample_euler`: ComfyUI's
  ``ddim`` sampler.
* :func:`tiny_unet`: an SD1.5 block layout (ComfyUI's block keys, decoder self-attentions at
  ``("output", 3..11)``) with 32 channels and random weights; :func:`tiny_sdxl_unet`: SDXL's layout
  (three levels with 0, 2 and 10 transformers per attention block, linear projections, the pooled
  text and size conditioning), equally narrow. :func:`comfy_layers` names any diffusers UNet's
  transformer layers as ComfyUI names its own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, UNet2DConditionModel

from drag_editing_dev.drag.comfy_protocol import current_replace
from drag_editing_dev.drag.fastdrag.architectures import level_size
from drag_editing_dev.drag.lightningdrag.layout import TRANSFORMER_BLOCKS

CONTEXT_DIM = 32
SDXL_POOLED_DIM = 32
SDXL_TIME_DIM = 8


def official_scheduler() -> DDIMScheduler:
    """The official DDIM configuration of both methods (specs/fastdrag.md §1, specs/lightningdrag.md)."""
    return DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        clip_sample=False, set_alpha_to_one=False, steps_offset=1,
    )


def tiny_unet(seed: int = 0, linear_projection: bool = False) -> UNet2DConditionModel:
    """SD1.5's UNet layout at width 32 (with ``linear_projection``, SD2.x's transformers)."""
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 32, 32, 32),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=CONTEXT_DIM,
        attention_head_dim=8,
        use_linear_projection=linear_projection,
        norm_num_groups=8,
    )
    return unet.eval()


def tiny_sdxl_unet(seed: int = 0) -> UNet2DConditionModel:
    """SDXL's UNet layout at width 32: the same blocks, transformer depths (2 and 10) and conditioning."""
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 32, 32),
        layers_per_block=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 2, 10),
        cross_attention_dim=CONTEXT_DIM,
        attention_head_dim=8,
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=SDXL_TIME_DIM,
        projection_class_embeddings_input_dim=6 * SDXL_TIME_DIM + SDXL_POOLED_DIM,
        norm_num_groups=8,
    )
    return unet.eval()


def sdxl_conditioning(batch: int, height: int, width: int) -> dict:
    """SDXL's added conditioning for a diffusers UNet: a pooled text embedding and the size ids
    (original size, crop, target size, in pixels) that ComfyUI's SDXL model encodes the same way."""
    g = torch.Generator().manual_seed(7)
    size = torch.tensor([[8 * height, 8 * width, 0, 0, 8 * height, 8 * width]], dtype=torch.float32)
    return {"text_embeds": torch.randn(1, SDXL_POOLED_DIM, generator=g).expand(batch, -1), "time_ids": size.expand(batch, -1)}


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


def comfy_layers(unet):
    """(ComfyUI layer key ``(block, id, index)``, level, diffusers BasicTransformerBlock) of every
    transformer layer of a diffusers UNet with an int ``layers_per_block``.

    ComfyUI numbers its ``input_blocks`` from 1 (0 is ``conv_in``), each level's res blocks then its
    downsampler, and its ``output_blocks`` from 0, each level's ``layers_per_block + 1`` res blocks
    (the last with its upsampler); the index counts the transformers inside one block.
    """
    per_level = unet.config.layers_per_block
    for level, down in enumerate(unet.down_blocks):
        for j, attention in enumerate(getattr(down, "attentions", None) or []):
            for i, layer in enumerate(attention.transformer_blocks):
                yield ("input", level * (per_level + 1) + j + 1, i), level, layer
    for i, layer in enumerate(unet.mid_block.attentions[0].transformer_blocks):
        yield ("middle", 0, i), len(unet.down_blocks) - 1, layer
    for u, up in enumerate(unet.up_blocks):
        for j, attention in enumerate(getattr(up, "attentions", None) or []):
            for i, layer in enumerate(attention.transformer_blocks):
                yield ("output", u * (per_level + 1) + j, i), len(unet.up_blocks) - 1 - u, layer


def transformer_blocks(unet):
    """(layout block, diffusers BasicTransformerBlock) of the 16 SD1.5 transformer blocks (LightningDrag's layout)."""
    for block in TRANSFORMER_BLOCKS:
        yield block, _module(unet, block.diffusers).transformer_blocks[0]


def decoder_self_attentions(unet):
    """(ComfyUI layer key, diffusers attn1 module) of every decoder self-attention."""
    for key, _, layer in comfy_layers(unet):
        if key[0] == "output":
            yield key, layer.attn1


def projections(unet) -> dict:
    """Each block's self-attention ``to_k`` / ``to_v``, as the nodes hand them to LightningDrag's bank."""
    return {block.key: (lambda r, a=t.attn1: (a.to_k(r), a.to_v(r))) for block, t in transformer_blocks(unet)}


class PatcherOptions:
    """Model options held as ComfyUI's ``ModelPatcher`` holds them, with its patch setters."""

    def __init__(self):
        self.model_options = {"transformer_options": {"patches": {}, "patches_replace": {}}}

    def set_model_attn1_patch(self, patch):
        self.model_options["transformer_options"]["patches"].setdefault("attn1_patch", []).append(patch)

    def _set_replace(self, kind, patch, block_name, number, transformer_index=None):
        key = (block_name, number) if transformer_index is None else (block_name, number, transformer_index)
        self.model_options["transformer_options"]["patches_replace"].setdefault(kind, {})[key] = patch

    def set_model_attn1_replace(self, patch, block_name, number, transformer_index=None):
        self._set_replace("attn1", patch, block_name, number, transformer_index)

    def set_model_attn2_replace(self, patch, block_name, number, transformer_index=None):
        self._set_replace("attn2", patch, block_name, number, transformer_index)


class ComfyStyle(PatcherOptions):
    """ComfyUI's attention sequence on every transformer block of ``unet``, for latents of ``latent_hw``."""

    def __init__(self, unet, latent_hw):
        super().__init__()
        self.options = {"cond_or_uncond": [0]}  # what the sampler sets per model call
        for key, level, transformer in comfy_layers(unet):
            hw = level_size(*latent_hw, level)
            transformer.attn1.set_processor(_Processor(self, key, "attn1", hw))
            transformer.attn2.set_processor(_Processor(self, key, "attn2", hw))


class _Processor:
    def __init__(self, comfy: ComfyStyle, key, kind: str, hw):
        self.comfy, self.key, self.kind, self.hw = comfy, key, kind, hw

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        block, index = self.key[:2], self.key[2]
        extra = dict(self.comfy.options, block=block, block_index=index, n_heads=attn.heads,
                     activations_shape=[hidden_states.shape[0], hidden_states.shape[2], *self.hw])
        n = hidden_states
        if self.kind == "attn1":
            context = value = n
            for patch in self.comfy.model_options["transformer_options"]["patches"].get("attn1_patch", []):
                n, context, value = patch(n, context, value, extra)
        else:
            context = value = encoder_hidden_states
        replace = current_replace(self.comfy, self.kind, block, index)
        q, k, v = attn.to_q(n), attn.to_k(context), attn.to_v(value)
        out = replace(q, k, v, extra) if replace else heads_attention(q, k, v, attn.heads)
        return attn.to_out[1](attn.to_out[0](out))


class Denoiser:
    """``model(x, sigma) -> denoised`` for an ε- or v-prediction UNet, VE parameterisation, as ComfyUI presents it.

    Each call sets ``sigmas`` and ``cond_or_uncond`` in ``options`` (point it at the options of the
    :class:`ComfyStyle` in use), as ComfyUI's sampler does in ``transformer_options``. ``added``: the
    UNet's added conditioning (SDXL's pooled text and size ids, :func:`sdxl_conditioning`), if it has one.
    """

    def __init__(self, unet: UNet2DConditionModel, context: torch.Tensor, scheduler: DDIMScheduler,
                 prediction: str = "epsilon", added: dict | None = None):
        self.unet, self.context, self.prediction, self.added = unet, context, prediction, added
        self.options: dict = {}
        ac = scheduler.alphas_cumprod.double()
        self.sigma_table = ((1 - ac) / ac).sqrt().float()
        self.calls: list[int] = []

    def sigma(self, timestep: int) -> torch.Tensor:
        return self.sigma_table[timestep]

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, **kwargs) -> torch.Tensor:
        t = int((self.sigma_table.log() - sigma[0].log()).abs().argmin())
        self.calls.append(t)
        self.options.update(sigmas=sigma, cond_or_uncond=[0])  # one positive chunk: the whole batch
        s = sigma.view(-1, 1, 1, 1)
        context = self.context.expand(x.shape[0], -1, -1)
        out = self.unet(x / (1 + s**2).sqrt(), t, encoder_hidden_states=context, added_cond_kwargs=self.added).sample
        if self.prediction == "v":  # ComfyUI's V_PREDICTION: x0 = sqrt(ᾱ) z - sqrt(1 - ᾱ) v
            return x / (1 + s**2) - s * out / (1 + s**2).sqrt()
        return x - s * out


def sample_euler(model, x: torch.Tensor, sigmas: torch.Tensor, callback=None) -> torch.Tensor:
    """ComfyUI's ``ddim`` sampler: Euler steps in the VE parameterisation (DDIM with eta 0), calling
    ``callback(step, x0, x, total_steps)`` after each step as ComfyUI's samplers do."""
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        x = x + (x - denoised) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
        if callback is not None:
            callback(i, denoised, x, len(sigmas) - 1)
    return x
