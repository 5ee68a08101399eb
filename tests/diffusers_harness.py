"""A tiny SD1.5-layout diffusers UNet that calls attention patches the way ComfyUI does, for pure tests.

This is not ComfyUI (the integration tests use the real one): it exists so the method code's
inversion, sampling schedule and K/V patches can be checked against the official formulas with a
real UNet architecture on a machine without ComfyUI.

* :func:`tiny_unet`: SD1.5 block types and layout (so decoder self-attentions sit at ComfyUI's
  ``("output", 3..11)``), 32 channels, random weights.
* :class:`PatchedSelfAttention`: a diffusers attention processor that runs ComfyUI-style
  ``attn1_patch`` functions on a self-attention's input before its projections.
* :class:`Denoiser`: ComfyUI's view of an EPS model, ``model(x, sigma) -> denoised`` in the
  variance-exploding parameterisation, on the schedule of the official DDIMScheduler.
* :class:`OfficialKVProcessor`: the official FastDrag processor's behaviour (store post-projection
  K and V per step during inversion, replace both while sampling), to compare against.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, UNet2DConditionModel

CONTEXT_DIM = 32


def official_scheduler() -> DDIMScheduler:
    """FastDrag's scheduler configuration (specs/fastdrag.md §1)."""
    return DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        clip_sample=False, set_alpha_to_one=False, steps_offset=1,
    )


def tiny_unet(seed: int = 0) -> UNet2DConditionModel:
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
        norm_num_groups=8,
    )
    return unet.eval()


def _attend(attn, q, k, v):
    b = q.shape[0]
    split = lambda t: t.view(b, -1, attn.heads, t.shape[-1] // attn.heads).transpose(1, 2)  # noqa: E731
    out = F.scaled_dot_product_attention(split(q), split(k), split(v))
    out = out.transpose(1, 2).reshape(b, -1, q.shape[-1])
    return attn.to_out[1](attn.to_out[0](out))


def decoder_self_attentions(unet: UNet2DConditionModel):
    """(ComfyUI block key, diffusers attn1 module) of every decoder self-attention."""
    for b, block in enumerate(unet.up_blocks):
        for a, transformer in enumerate(getattr(block, "attentions", [])):
            yield ("output", 3 * b + a), transformer.transformer_blocks[0].attn1


class PatchedSelfAttention:
    """Runs ComfyUI-style ``attn1_patch`` functions, then ordinary attention."""

    def __init__(self, block: tuple[str, int], patches: list, options: dict):
        self.block, self.patches, self.options = block, patches, options

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        n = context = value = hidden_states
        extra = dict(self.options, block=self.block, block_index=0, n_heads=attn.heads)
        for patch in self.patches:
            n, context, value = patch(n, context, value, extra)
        return _attend(attn, attn.to_q(n), attn.to_k(context), attn.to_v(value))


class OfficialKVProcessor:
    """FastDrag's processor: save K and V at each inversion step (keyed by the sampling index of its
    timestep), replace K and V with the saved ones at each sampling step."""

    def __init__(self, store: dict, block, state: dict):
        self.store, self.block, self.state = store, block, state

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        q, k, v = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
        slot = (self.block, self.state["iter"])
        if self.state["mode"] == "save":
            self.store[slot] = (k, v)
        elif self.state["mode"] == "use":
            k, v = (t.repeat(hidden_states.shape[0] // t.shape[0], 1, 1) for t in self.store[slot])
        return _attend(attn, q, k, v)


def install(unet: UNet2DConditionModel, make_processor) -> None:
    """Give every decoder self-attention the processor ``make_processor(block_key)``."""
    for block, attn1 in decoder_self_attentions(unet):
        attn1.set_processor(make_processor(block))


class Denoiser:
    """``model(x, sigma) -> denoised`` for an EPS UNet, VE parameterisation, as ComfyUI presents it.

    ``options`` is shared with :class:`PatchedSelfAttention`: each call sets ``sigmas`` and
    ``cond_or_uncond`` there, as ComfyUI's sampler does in ``transformer_options``.
    """

    def __init__(self, unet: UNet2DConditionModel, context: torch.Tensor, scheduler: DDIMScheduler):
        self.unet, self.context = unet, context
        ac = scheduler.alphas_cumprod.double()
        self.sigma_table = ((1 - ac) / ac).sqrt().float()
        self.options: dict = {}
        self.calls: list[int] = []

    def sigma(self, timestep: int) -> torch.Tensor:
        return self.sigma_table[timestep]

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor, **kwargs) -> torch.Tensor:
        t = int((self.sigma_table.log() - sigma[0].log()).abs().argmin())
        self.calls.append(t)
        self.options.update(sigmas=sigma, cond_or_uncond=[0])  # one positive chunk: the whole batch
        s = sigma.view(-1, 1, 1, 1)
        context = self.context.expand(x.shape[0], -1, -1)
        eps = self.unet(x / (1 + s**2).sqrt(), t, encoder_hidden_states=context).sample
        return x - s * eps


def sample_euler(model, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """ComfyUI's ``ddim`` sampler: Euler steps in the VE parameterisation (DDIM with eta 0)."""
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        x = x + (x - denoised) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
    return x
