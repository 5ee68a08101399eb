"""LoadLightningDrag, AppearanceEncode, PointEmbed and DragKSampler: LightningDrag on a ComfyUI inpainting MODEL."""

from __future__ import annotations

import comfy.samplers
from comfy_api.v0_0_2 import io

from ..drag.lightningdrag.guidance import DECAYS, DEFAULT_DECAY, PointGuidance
from . import lightningdrag_models as models
from . import lightningdrag_sampling as ld
from .comfy_sampling import sampler_names
from .inputs import check_floats, validate_floats
from .types import CATEGORY, DragAppearance, DragPointEmbeds, DragPoints, LightningDrag, search_aliases

_CATEGORY = f"{CATEGORY}/LightningDrag"


class LoadLightningDrag(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LoadLightningDrag",
            **search_aliases("LightningDrag", "load drag model", "inpaint drag"),
            display_name="Load LightningDrag",
            category=_CATEGORY,
            description=(
                "Loads the LightningDrag release (appearance encoder, point embedding network, point attention) from "
                "models/lightning_drag/<release>/ and IP-Adapter sd15 from models/ipadapter/, unmodified."
            ),
            inputs=[
                io.Combo.Input(
                    "release", options=models.release_names(), default="lightning-drag-sd15",
                    tooltip="A folder in models/lightning_drag holding the release as published at huggingface.co/LightningDrag/lightning-drag-sd15.",
                ),
                io.Combo.Input(
                    "ip_adapter", options=models.ip_adapter_names(), default="ip-adapter_sd15.safetensors",
                    tooltip="IP-Adapter sd15 in models/ipadapter: h94/IP-Adapter models/ip-adapter_sd15.safetensors (or its .bin twin).",
                ),
            ],
            outputs=[LightningDrag.Output("lightning_drag", display_name="lightning_drag", tooltip="The loaded weights, for AppearanceEncode, PointEmbed and DragKSampler.")],
        )

    @classmethod
    def validate_inputs(cls, release, ip_adapter) -> bool | str:
        # Replaces ComfyUI's "value not in list" with where to put the files and where to get them.
        return models.missing_files(release, ip_adapter) or True

    @classmethod
    def execute(cls, release, ip_adapter) -> io.NodeOutput:
        return io.NodeOutput(models.load_release(release, ip_adapter))


class AppearanceEncode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AppearanceEncode",
            **search_aliases("LightningDrag", "appearance encoder", "inpaint drag"),
            display_name="LightningDrag Appearance Encode",
            category=_CATEGORY,
            description="Runs LightningDrag's appearance encoder once on the clean source latent (t = 0, empty prompt) and keeps what its 16 self-attentions see.",
            inputs=[
                LightningDrag.Input("lightning_drag", tooltip="From LoadLightningDrag."),
                io.Clip.Input("clip", tooltip="The text encoder of the inpainting checkpoint: the empty prompt is encoded with it."),
                io.Latent.Input("latent", tooltip="The source image's latent (VAEEncode of the image the points are placed on)."),
            ],
            outputs=[DragAppearance.Output("appearance", display_name="appearance", tooltip="The appearance bank and the source latent, for DragKSampler.")],
        )

    @classmethod
    def execute(cls, lightning_drag, clip, latent) -> io.NodeOutput:
        return io.NodeOutput(ld.encode_appearance(lightning_drag, clip, latent))


class PointEmbed(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="PointEmbed",
            **search_aliases("LightningDrag", "point embedding", "inpaint drag"),
            display_name="LightningDrag Point Embed",
            category=_CATEGORY,
            description="Draws the drag pairs into handle and target index maps at the image's size and runs LightningDrag's point embedding network.",
            inputs=[
                LightningDrag.Input("lightning_drag", tooltip="From LoadLightningDrag."),
                DragPoints.Input("points", tooltip="The drag pairs (DragPointsEditor), on the source image."),
                io.Int.Input(
                    "anchors", default=0, min=0, max=64,
                    tooltip="Point augmentation (not in the official code): this many extra 'keep still' pairs (handle = target) just outside the mask, to hold the surroundings in place. 0 = off (official).",
                ),
                io.Mask.Input("mask", optional=True, tooltip="The editable region; needed only for anchors."),
            ],
            outputs=[DragPointEmbeds.Output("point_embeds", display_name="point_embeds", tooltip="Handle and target embeddings at 1/8-1/64 of the image, for DragKSampler.")],
        )

    @classmethod
    def execute(cls, lightning_drag, points, anchors, mask=None) -> io.NodeOutput:
        return io.NodeOutput(ld.embed(lightning_drag, points, mask=mask, anchors=anchors))


class DragKSampler(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="DragKSampler",
            **search_aliases("LightningDrag", "inpaint drag", "drag sampler"),
            display_name="LightningDrag KSampler",
            category=_CATEGORY,
            description=(
                "LightningDrag's edit on an SD1.5 inpainting model: appearance bank and point embeddings in self-attention, "
                "IP-Adapter image prompt, the source latent noised to t = 999 as the start, and point-following CFG with a decaying scale."
            ),
            inputs=[
                io.Model.Input("model", tooltip="An SD1.5 inpainting model (9 input channels; the release uses dreamshaper-8-inpainting). For LCM: LoraLoaderModelOnly with the LCM-LoRA, then ModelSamplingDiscrete (lcm)."),
                LightningDrag.Input("lightning_drag", tooltip="From LoadLightningDrag."),
                DragAppearance.Input("appearance", tooltip="From AppearanceEncode."),
                DragPointEmbeds.Input("point_embeds", tooltip="From PointEmbed."),
                io.ClipVisionOutput.Input("clip_vision_output", tooltip="CLIPVisionEncode (crop: center) of the source image with CLIP-ViT-H-14: IP-Adapter's image prompt."),
                io.Vae.Input("vae", tooltip="Encodes the source with the editable region greyed out (the inpainting input)."),
                io.Image.Input("image", tooltip="The source image (the one the points were placed on)."),
                io.Mask.Input("mask", tooltip="The editable region (1 = may change), at the image's size."),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True, tooltip="Noise seed; each candidate gets its own noise."),
                io.Int.Input("steps", default=25, min=1, max=200, tooltip="Official: 25 (DDIM), 8 (LCM-LoRA)."),
                io.Float.Input(
                    "point_guidance", default=4.0, min=1.0, max=20.0, step=0.1, round=0.01,
                    tooltip="Maximum point-following CFG scale (official UI: 4.0 for DDIM, 3.0 for LCM). 1 = no guidance, the conditional pass only; lower it (1-2) if results are blurry.",
                ),
                io.Combo.Input("decay", options=list(DECAYS), default=DEFAULT_DECAY, tooltip="How the scale falls from point_guidance to 1 over the steps (official: inv_square)."),
                io.Combo.Input("sampler_name", options=sampler_names(), default="ddim", tooltip="Official: ddim, or lcm with the LCM-LoRA."),
                io.Combo.Input("scheduler", options=list(comfy.samplers.SCHEDULER_NAMES), default="ddim_uniform", tooltip="Official: ddim_uniform for DDIM; simple for LCM (with ModelSamplingDiscrete lcm)."),
                io.Int.Input("candidates", default=1, min=1, max=16, tooltip="How many results to make (a batch; the official UI makes 4)."),
                io.Conditioning.Input(
                    "positive", optional=True,
                    tooltip=(
                        "Text conditioning of the main UNet, e.g. with a ControlNet applied (ControlNetApplyAdvanced). Default: the "
                        "empty prompt the appearance was encoded with (official). Both CFG halves use it; they differ in the points only."
                    ),
                ),
            ],
            outputs=[io.Latent.Output("edited", display_name="latent", tooltip="The edited latent(s): decode with VAEDecode.")],
        )

    @classmethod
    def validate_inputs(cls, point_guidance=None) -> bool | str:
        return validate_floats(cls, point_guidance=point_guidance)

    @classmethod
    def execute(cls, model, lightning_drag, appearance, point_embeds, clip_vision_output, vae, image, mask, seed, steps,
                point_guidance, decay, sampler_name, scheduler, candidates, positive=None) -> io.NodeOutput:
        check_floats(cls, point_guidance=point_guidance)
        return io.NodeOutput(ld.drag_sample(
            model,
            ld.DragInputs.of(lightning_drag, appearance, point_embeds, clip_vision_output),
            ld.EditSource(vae, image, mask, positive),
            ld.Sampling(seed, steps, sampler_name, scheduler, candidates),
            PointGuidance(point_guidance, decay),
        ))
