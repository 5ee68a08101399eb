"""FastDragInvert, FastDragKSampler and FastDragConsistency: FastDrag's diffusion steps on a ComfyUI MODEL."""

from __future__ import annotations

from comfy_api.v0_0_2 import io

from . import fastdrag_sampling as fd
from .comfy_sampling import sampler_names
from .inputs import check_floats, validate_floats
from .types import CATEGORY, DragKV, search_aliases

_CATEGORY = f"{CATEGORY}/FastDrag"


class FastDragInvert(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FastDragInvert",
            **search_aliases("FastDrag", "DDIM inversion", "invert latent"),
            display_name="FastDrag Invert",
            category=_CATEGORY,
            description=(
                "FastDrag's DDIM inversion of the source latent up to the warp timestep, recording the decoder "
                "self-attention inputs that keep the edit consistent with the source. Warp its latent with "
                "FastDragWarp, fill with BNNI, then sample with FastDragKSampler."
            ),
            inputs=[
                io.Model.Input(
                    "model",
                    tooltip="An SD1.5, SD2.x (ε or v) or SDXL model (the official release uses LCM_Dreamshaper_v7's SD1.5 UNet); others are refused.",
                ),
                io.Latent.Input("latent", tooltip="The source image's latent (VAEEncode)."),
                io.Int.Input("steps", default=10, min=1, max=1000, tooltip="Total DDIM steps of the schedule (official: 10)."),
                io.Float.Input(
                    "inversion_strength", default=0.7, min=0.01, max=1.0, step=0.01,
                    tooltip="Fraction of the steps to invert: round(strength × steps) steps (official: 0.7, i.e. up to timestep 601).",
                ),
                io.Conditioning.Input(
                    "positive", optional=True,
                    tooltip="Text conditioning for inversion and, by default, for sampling. Official: the empty prompt.",
                ),
                io.Clip.Input("clip", optional=True, tooltip="Used to encode the empty prompt when positive is not connected."),
                io.Boolean.Input(
                    "offload_kv", default=False,
                    tooltip=(
                        "Keep the K/V record in system memory even when ComfyUI keeps node outputs on the GPU (--gpu-only). It is "
                        "there in every other case (in fp16: about 92 MiB for a 512² SD1.5 image, 735 MiB for a 1024² SDXL image), "
                        "and sampling copies each step's part in while the step before computes."
                    ),
                ),
            ],
            outputs=[
                io.Latent.Output("noisy_latent", display_name="latent", tooltip="The inverted latent at the warp timestep: warp it with FastDragWarp."),
                DragKV.Output("drag_kv", display_name="drag_kv", tooltip="The self-attention record and schedule, for FastDragKSampler or FastDragConsistency."),
            ],
        )

    @classmethod
    def validate_inputs(cls, inversion_strength=None) -> bool | str:
        return validate_floats(cls, inversion_strength=inversion_strength)

    @classmethod
    def execute(cls, model, latent, steps, inversion_strength, positive=None, clip=None, offload_kv=False) -> io.NodeOutput:
        check_floats(cls, inversion_strength=inversion_strength)
        conditioning = fd.conditioning_or_empty(positive, clip)
        noisy, kv = fd.invert(model, latent, conditioning, steps=steps, strength=inversion_strength, offload=offload_kv)
        return io.NodeOutput(noisy, kv)


class FastDragKSampler(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FastDragKSampler",
            **search_aliases("FastDrag", "sampler", "inversion sampler"),
            display_name="FastDrag KSampler",
            category=_CATEGORY,
            description=(
                "Samples the warped, filled latent from the warp timestep to the end on the inversion's schedule, "
                "reusing the inversion's self-attention keys and values (FastDrag's consistency-preserving strategy)."
            ),
            inputs=[
                io.Model.Input("model", tooltip="The model that was inverted."),
                DragKV.Input("drag_kv", tooltip="From FastDragInvert."),
                io.Latent.Input("latent", tooltip="The warped latent with its holes filled (BNNI)."),
                io.Boolean.Input("consistency", default=True, tooltip="Reuse the inversion's self-attention keys and values (official: on)."),
                io.Float.Input("cfg", default=1.0, min=0.0, max=30.0, step=0.1, round=0.01, tooltip="Text guidance scale (official: 1.0, no guidance)."),
                io.Combo.Input("sampler_name", options=sampler_names(), default="ddim", tooltip="Official: ddim. Use a first-order sampler; the record only has the schedule's steps."),
                io.Int.Input(
                    "seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate="fixed",
                    tooltip="Only stochastic samplers use it; ddim is deterministic, so it stays fixed and a re-queue reuses the result.",
                ),
                io.Conditioning.Input("positive", optional=True, tooltip="Defaults to the conditioning the inversion used (as the official pipeline)."),
                io.Conditioning.Input("negative", optional=True, tooltip="Needed only when cfg is not 1."),
            ],
            outputs=[io.Latent.Output("edited", display_name="latent", tooltip="The edited latent: decode it with VAEDecode.")],
        )

    @classmethod
    def validate_inputs(cls, cfg=None) -> bool | str:
        return validate_floats(cls, cfg=cfg)

    @classmethod
    def execute(cls, model, drag_kv, latent, consistency, cfg, sampler_name, seed, positive=None, negative=None) -> io.NodeOutput:
        check_floats(cls, cfg=cfg)
        return io.NodeOutput(fd.sample(model, drag_kv, latent, consistency, sampler_name, seed, fd.TextGuidance(cfg, positive, negative)))


class FastDragConsistency(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FastDragConsistency",
            **search_aliases("FastDrag", "keys values", "model patch"),
            display_name="FastDrag Consistency (model patch)",
            category=_CATEGORY,
            description=(
                "Patches a MODEL so that any sampler node reuses the inversion's self-attention keys and values. "
                "Use the inversion's steps and scheduler (ddim_uniform), start at its warp step, add_noise off, "
                "and a first-order sampler (e.g. KSamplerAdvanced: steps 10, start_at_step 3, sampler ddim)."
            ),
            inputs=[
                io.Model.Input("model", tooltip="The model that was inverted."),
                DragKV.Input("drag_kv", tooltip="From FastDragInvert."),
            ],
            outputs=[io.Model.Output("patched", display_name="model", tooltip="The model with FastDrag's K/V consistency installed.")],
        )

    @classmethod
    def execute(cls, model, drag_kv) -> io.NodeOutput:
        return io.NodeOutput(fd.with_consistency(model, drag_kv))
