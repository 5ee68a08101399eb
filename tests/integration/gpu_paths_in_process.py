"""The paths ComfyUI takes on a user's GPU, forced on a CPU inside a real ComfyUI (run by test_gpu_paths.py).

Run with ComfyUI's Python: ``python gpu_paths_in_process.py COMFYUI_PATH MODELS SCENARIO OUT``.

On a CPU, ComfyUI computes everything in fp32 and loads every model fully. A scenario rigs the one decision
that differs on a GPU, then runs the pack's code through ComfyUI's own loading and sampling:

* ``fp32``: nothing changed (the reference);
* ``fp16`` / ``bf16``: weights stored and computed in fp16 / bf16, as on an NVIDIA GPU (ComfyUI's "does
  this device compute in fp16 / bf16" answers yes);
* ``fp8``: weights stored in fp8 (``--fp8_e4m3fn-unet``) and cast to fp16 in each layer, as on a GPU
  without fp8 matrix units;

each running a LightningDrag edit (AppearanceEncode, PointEmbed, DragKSampler with 2 candidates and point
guidance) and a FastDrag edit (FastDragInvert, FastDragWarp, BNNI, FastDragKSampler) on the tiny test models
and writing the edited latents and the dtypes the pack's modules store and compute in to ``OUT`` (a
``.safetensors`` and a ``.json``);

* ``placement``: the pack's models are given a second device to load to, the meta device, which ComfyUI
  is told has no memory free (``--novram``'s state), so its own loader loads them partially: their weights
  stay on the CPU (the offload device) and ComfyUI's layers cast them per call; node outputs are kept on
  the device, as under ``--gpu-only``; then PointEmbed, the LightningDrag attention
  patches (bank, point terms, IP-Adapter), the start latent, the inpainting channels of an image on
  the device with a mask on the CPU, and the FastDrag K/V patch run on meta activations under a check that fails on any operation mixing devices (copies excepted), as the GPU
  would. The meta device computes no values (it stands in for placement only), so nothing is compared;
* ``multigpu``: the model set up by ComfyUI's MultiGPU code (0.2x and later) to split its batch across two
  devices, as its "MultiGPU CFG Split" node leaves it: DragKSampler, FastDragInvert and FastDragConsistency
  refuse it before any sampling, naming the node; written as ``{"skipped": why}`` on a ComfyUI without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "devtools"))
from in_process import boot  # noqa: E402

COPIES = {  # operations that move data between devices, or only compare where tensors are
    torch.ops.aten._to_copy, torch.ops.aten.copy_, torch.ops.aten._copy_from, torch.ops.aten._copy_from_and_resize,
    torch.ops.aten._has_compatible_shallow_copy_type,
}
SIZE = 64  # image side (an 8×8 latent)


class DeviceMixCheck(TorchDispatchMode):
    """Raise on any operation whose tensor operands are on different devices (the CUDA rule; 0-d CPU scalars and
    copies between devices are allowed), which the meta device alone would let through for convolutions and
    matrix products."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func.overloadpacket not in COPIES:
            devices = {t.device for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor) and not (t.dim() == 0 and t.device.type == "cpu")}
            if len(devices) > 1:
                raise RuntimeError(f"{func} mixes devices {sorted(map(str, devices))}")
        return func(*args, **kwargs)


def _force(scenario: str) -> list[str]:
    """ComfyUI's command-line flags for ``scenario``; the device answers are rigged after import (:func:`_rig`)."""
    return {"fp16": ["--fp16-unet"], "bf16": ["--bf16-unet"], "fp8": ["--fp8_e4m3fn-unet"]}.get(scenario, [])


def _rig(scenario: str) -> None:
    import comfy.model_management as mm

    if scenario in ("fp16", "fp8"):
        mm.should_use_fp16 = lambda *args, **kwargs: True
    if scenario == "bf16":
        mm.should_use_bf16 = lambda *args, **kwargs: True
    if scenario == "placement":
        mm.vram_state = mm.VRAMState.NO_VRAM
        free = mm.get_free_memory
        mm.get_free_memory = lambda dev=None, torch_free_too=False: (
            ((0, 0) if torch_free_too else 0) if getattr(dev, "type", None) == "meta" else free(dev, torch_free_too)
        )


def _models(models: Path):
    import comfy.clip_vision
    import comfy.sd
    import folder_paths

    for name in ("lightning_drag", "ipadapter", "clip_vision", "checkpoints"):
        folder_paths.folder_names_and_paths[name] = ([str(models / name)], folder_paths.supported_pt_extensions)
    load = lambda name: comfy.sd.load_checkpoint_guess_config(folder_paths.get_full_path_or_raise("checkpoints", name))[:3]  # noqa: E731
    vision = comfy.clip_vision.load(folder_paths.get_full_path_or_raise("clip_vision", "rand_clip_vision_h.safetensors"))
    return load("drag_test_sd15_tiny_inpaint.safetensors"), load("drag_test_sd15_tiny.safetensors"), vision


def _inputs():
    from drag_editing_dev.drag.points import DragPoints

    image = torch.rand(1, SIZE, SIZE, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, SIZE, SIZE)
    mask[:, 8:56, 8:56] = 1
    points = DragPoints.from_pairs([((20, 24), (36, 26)), ((40, 40), (40, 40))], SIZE, SIZE)
    return image, mask, points


def edit(models: Path, out: Path, scenario: str) -> None:
    from drag_editing_dev.drag.fastdrag.image_space import fill_holes, warp_latent
    from drag_editing_dev.nodes import fastdrag_sampling as fd
    from drag_editing_dev.drag.lightningdrag.guidance import PointGuidance
    from drag_editing_dev.nodes import lightningdrag_models, lightningdrag_sampling as ld
    from drag_editing_dev.nodes.comfy_sampling import empty_prompt

    (inpaint, clip, vae), (plain, plain_clip, plain_vae), vision = _models(models)
    image, mask, points = _inputs()
    lightning = lightningdrag_models.load_release("rand-lightning-drag-tiny", "ip-adapter_sd15.bin")
    latent = {"samples": vae.encode(image)}
    bank = ld.encode_appearance(lightning, clip, latent)
    embeds = ld.embed(lightning, points, mask, 0)
    edited = ld.drag_sample(inpaint, ld.DragInputs.of(lightning, bank, embeds, vision.encode_image(image, crop=True)),
                            ld.EditSource(vae, image, mask), ld.Sampling(1, 3, "ddim", "ddim_uniform", 2),
                            PointGuidance(3.0, "inv_square"))["samples"]
    noisy, kv = fd.invert(plain, {"samples": plain_vae.encode(image)}, empty_prompt(plain_clip), steps=10, strength=0.7, offload=False)
    warped, holes = warp_latent(noisy["samples"], points, mask)
    fast = fd.sample(plain, kv, {"samples": fill_holes(warped, holes)}, consistency=True, sampler_name="ddim", seed=0)["samples"]
    from safetensors.torch import save_file

    save_file({"lightningdrag": edited.float().contiguous(), "fastdrag": fast.float().contiguous()}, str(out.with_suffix(".safetensors")))
    net, weights = lightning.points.model, lightning.attention.model
    out.with_suffix(".json").write_text(json.dumps({
        "unet_compute": str(inpaint.model.manual_cast_dtype or inpaint.model.get_dtype()),
        "unet_storage": str(inpaint.model.get_dtype()),
        "point_net": [str(next(net.parameters()).dtype), str(net.compute_dtype)],
        "attention": [str(next(weights.parameters()).dtype), str(weights.compute_dtype)],
        "casting_layers": type(weights.point_proj["0"]).__qualname__,
        "record": str(next(iter(kv.states.values())).dtype),
        "bank": str(next(iter(bank.states.values())).device),
        "embeds": str(embeds.levels[0][0].device),
    }))


def placement(models: Path, out: Path) -> None:
    from drag_editing_dev.drag.fastdrag.kv import ConsistencyPatch, DragKV
    from drag_editing_dev.drag.lightningdrag.attention import sampling_patches
    from drag_editing_dev.drag.lightningdrag.layout import TRANSFORMER_BLOCKS
    from drag_editing_dev.nodes import lightningdrag_models, lightningdrag_sampling as ld

    (inpaint, clip, vae), _, vision = _models(models)
    image, mask, points = _inputs()
    lightning = lightningdrag_models.load_release("rand-lightning-drag-tiny", "ip-adapter_sd15.bin")
    bank = ld.encode_appearance(lightning, clip, {"samples": vae.encode(image)})
    import comfy.model_management

    meta = torch.device("meta")
    lightning.points.load_device = lightning.attention.load_device = meta
    comfy.model_management.intermediate_device = lambda: meta  # outputs stay on the device (as --gpu-only): meta data cannot be copied back
    report = {}
    def loaded(patcher) -> dict:
        layers = [m for m in patcher.model.modules() if hasattr(m, "comfy_cast_weights")]
        return {"layers": len(layers), "casting": sum(bool(m.comfy_cast_weights) for m in layers),
                "weights_on": sorted({str(p.device) for p in patcher.model.parameters()})}

    with DeviceMixCheck():
        embeds = ld.embed(lightning, points, mask, 0)  # ComfyUI loads the point network for it
        report["points"] = loaded(lightning.points)
        comfy.model_management.load_models_gpu([lightning.attention])  # as it does with the UNet that names it
        report["attention"] = loaded(lightning.attention)
        weights = lightning.attention.model
        self_attention, cross_attention = sampling_patches(
            weights, bank, embeds, vision.encode_image(image, crop=True).image_embeds[:1], ld._attention,
            {key: (lambda r, attn=attn: (attn.to_k(r), attn.to_v(r))) for key, attn in ld._self_attentions(inpaint).items()},
        )
        blocks = 0
        for block in TRANSFORMER_BLOCKS:
            attn1, attn2 = self_attention[block.key](None), cross_attention[block.key](None)
            attn1.to(meta), attn2.to(meta)
            tokens, width = bank.states[block.key].shape[1:]
            q = torch.empty(4, tokens, width, device=meta)
            level = embeds.levels[block.level][0].shape[-2:]
            options = {"block": block.key, "block_index": 0, "cond_or_uncond": [1, 0], "n_heads": 8,
                       "activations_shape": [4, width, *level]}
            ld._self_attentions(inpaint)[block.key].to(meta)  # the UNet's projections of the bank run where the UNet is
            attn1(q, q, q, options)
            attn2(q, torch.empty(4, 77, width, device=meta), torch.empty(4, 77, width, device=meta), options)
            blocks += 1
        report["attention_blocks"] = blocks
        start = ld.start_latent(inpaint, torch.zeros(1, 4, SIZE // 8, SIZE // 8, device=meta), 2, 0, 14.6)
        report["start_on"] = str(start.device)
        # A decoded image on the device meets LoadImage's mask on the CPU. The VAE is not the pack's, and ComfyUI's
        # cannot encode on the meta device: an encoder that keeps the image's device stands in for it here.
        encoder = type("Encoder", (), {"encode": staticmethod(lambda pixels: pixels.new_zeros(1, 4, SIZE // 8, SIZE // 8))})()
        conditioning = ld.inpaint_conditioning(bank.conditioning, encoder, image.to(meta), mask, (SIZE // 8, SIZE // 8))
        report["inpainting_on"] = sorted({str(conditioning[0][1][k].device) for k in ("concat_latent_image", "concat_mask")})
        kv = DragKV(states={("output", 3, 0): torch.zeros(2, 1, 4, 8)}, timesteps=(501, 1), sigmas=torch.tensor([3.0, 1.0]),
                    final_sigma=0.03, sigma_table=torch.linspace(0.03, 15, 1000), total_steps=10, strength=0.2, latent_shape=(1, 4, 2, 2))
        patch = ConsistencyPatch(kv)
        n = torch.empty(2, 4, 8, device=meta)
        seen = []

        def executor(noise, latent, sampler, sigmas, denoise_mask, callback):
            for step, sigma in enumerate((3.0, 1.0)):
                seen.append(patch(n, n, n, {"block": ("output", 3), "block_index": 0, "cond_or_uncond": [1, 0],
                                            "sigmas": torch.full((2,), sigma, device=meta)})[1].device)
                callback(step, None, None, 2)

        try:
            patch.outer_sample(executor, None, torch.zeros(1, 4, 2, 2), None, torch.tensor([3.0, 1.0, 0.03]))
        except RuntimeError as error:  # the after-run check reads a meta flag, which has no value
            report["kv_check"] = str(error)[:80]
        report["record_on"] = sorted({str(d) for d in seen})
    out.with_suffix(".json").write_text(json.dumps(report))


def multigpu(models: Path, out: Path) -> None:
    try:
        import comfy.multigpu
    except ImportError:
        out.with_suffix(".json").write_text(json.dumps({"skipped": "this ComfyUI has no MultiGPU support (comfy.multigpu)"}))
        return
    from drag_editing_dev.drag.errors import DragInputError
    from drag_editing_dev.nodes import fastdrag_sampling as fd
    from drag_editing_dev.drag.lightningdrag.guidance import PointGuidance
    from drag_editing_dev.nodes import lightningdrag_models, lightningdrag_sampling as ld
    from drag_editing_dev.nodes.comfy_sampling import empty_prompt

    (inpaint, clip, vae), (plain, plain_clip, plain_vae), vision = _models(models)
    image, mask, points = _inputs()
    lightning = lightningdrag_models.load_release("rand-lightning-drag-tiny", "ip-adapter_sd15.bin")
    bank = ld.encode_appearance(lightning, clip, {"samples": vae.encode(image)})
    embeds = ld.embed(lightning, points, mask, 0)

    def split(model):
        """``model`` as MultiGPU CFG Split leaves it with a second device (ComfyUI's own bookkeeping)."""
        split = model.clone()
        second = model.clone()
        second.load_device = torch.device("meta")
        split.set_additional_models("multigpu", [second])
        comfy.multigpu.GPUOptionsGroup().register(split)
        return split

    refusals = {}
    attempts = {
        "DragKSampler": lambda: ld.drag_sample(split(inpaint), ld.DragInputs.of(lightning, bank, embeds, vision.encode_image(image, crop=True)),
                                               ld.EditSource(vae, image, mask), ld.Sampling(0, 2, "ddim", "ddim_uniform"), PointGuidance(3.0)),
        "FastDragInvert": lambda: fd.invert(split(plain), {"samples": plain_vae.encode(image)}, empty_prompt(plain_clip), 10, 0.7, False),
        "FastDragConsistency": lambda: fd.with_consistency(split(plain), None),
    }
    for node, attempt in attempts.items():
        try:
            attempt()
            refusals[node] = None
        except DragInputError as error:
            refusals[node] = str(error)
    out.with_suffix(".json").write_text(json.dumps(refusals))


def main() -> None:
    comfy_root, models, scenario, out = sys.argv[1:5]
    boot(comfy_root, _force(scenario))
    _rig(scenario)
    run = {"placement": placement, "multigpu": multigpu}.get(scenario, lambda m, o: edit(m, o, scenario))
    with torch.inference_mode():  # as ComfyUI executes a prompt
        run(Path(models), Path(out))


if __name__ == "__main__":
    main()
