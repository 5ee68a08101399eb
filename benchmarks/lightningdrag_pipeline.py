"""Per-stage time and peak memory of a whole LightningDrag edit, run in-process inside a real ComfyUI.

Run it with ComfyUI's Python, after writing release files for the checkpoint's UNet widths (random
weights are fine: timing does not depend on them)::

    python devtools/lightningdrag_files.py /tmp/ld_models --widths 320 320 320 320      # tiny checkpoints
    COMFYUI_PATH=/opt/comfy/ComfyUI $COMFYUI_PATH/../venv/bin/python benchmarks/lightningdrag_pipeline.py \\
        --ckpt rand_sd15_tiny_inpaint.safetensors --models /tmp/ld_models --mode ddim --size 512 [--device cuda]

``--mode ddim``: 25 steps, ddim / ddim_uniform, point guidance 4 (CFG: two UNet passes a step);
``--mode lcm``: 8 steps, lcm / simple on ModelSamplingDiscrete(lcm), point guidance 3. Stages go
through the pack's node functions: VAE encode, AppearanceEncode, PointEmbed, DragKSampler, VAE
decode. A first run at ``--warmup-size`` loads the models and is not reported. CLIP-vision encoding
is timed when ``--clip-vision`` names a file in ComfyUI's clip_vision folder; otherwise random image
embeddings are used. Peak memory: ``torch.cuda.max_memory_allocated`` on CUDA, peak RSS growth on CPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from comfy_bench import Stages, boot_from_env, checkpoint, edit_inputs, use_model_folders  # boot_from_env loads the pack as drag_editing_dev

MODES = {"ddim": (25, 4.0, "ddim", "ddim_uniform"), "lcm": (8, 3.0, "lcm", "simple")}


def edit(stage: Stages, model, clip, vae, lightning, vision, image, mask, points, mode: str, candidates: int):
    """One LightningDrag edit (``mode`` "ddim" or "lcm", see :data:`MODES`; ``model`` already patched for lcm)
    through the pack's node functions, each stage timed by ``stage``; ``vision``: a CLIP-vision model, or None
    for random image embeddings. Returns the edited latents and the appearance bank."""
    import torch

    from drag_editing_dev.drag.lightningdrag.guidance import PointGuidance
    from drag_editing_dev.nodes import lightningdrag_sampling as ld

    steps, guidance, sampler, scheduler = MODES[mode]
    latent = stage("VAE encode", lambda: {"samples": vae.encode(image)})
    bank = stage("appearance encode", lambda: ld.encode_appearance(lightning, clip, latent))
    embeds = stage("point embed", lambda: ld.embed(lightning, points, mask, 0))
    if vision is not None:
        embedding = stage("CLIP vision encode", lambda: vision.encode_image(image, crop=True))
    else:
        embedding = type("RandomEmbeds", (), {"image_embeds": torch.randn(1, 1024, generator=torch.Generator().manual_seed(0))})()
    edited = stage(f"sample ({steps} steps)", lambda: ld.drag_sample(
        model, ld.DragInputs.of(lightning, bank, embeds, embedding), ld.EditSource(vae, image, mask),
        ld.Sampling(0, steps, sampler, scheduler, candidates), PointGuidance(guidance, "inv_square")))
    stage("VAE decode", lambda: vae.decode(edited["samples"]))
    stage.note("appearance bank", bank.nbytes)
    return edited["samples"], bank


def lcm(model):
    """``model`` with ModelSamplingDiscrete (lcm), as the LCM workflow sets it."""
    from comfy_extras.nodes_model_advanced import ModelSamplingDiscrete

    return ModelSamplingDiscrete().patch(model, "lcm", False)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ckpt", default="rand_sd15_tiny_inpaint.safetensors")
    parser.add_argument("--models", type=Path, required=True, help="folder with lightning_drag/ and ipadapter/ (devtools/lightningdrag_files.py)")
    parser.add_argument("--release", default="rand-lightning-drag")
    parser.add_argument("--clip-vision", default=None)
    parser.add_argument("--mode", choices=list(MODES), default="ddim")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--warmup-size", type=int, default=64)
    parser.add_argument("--candidates", type=int, default=1)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    boot_from_env(args.device)

    import comfy.clip_vision
    import comfy.model_management
    import folder_paths
    import torch

    from drag_editing_dev.nodes import lightningdrag_models as models

    use_model_folders(args.models)
    steps = MODES[args.mode][0]
    model, clip, vae = checkpoint(args.ckpt)
    if args.mode == "lcm":
        model = lcm(model)
    vision = comfy.clip_vision.load(folder_paths.get_full_path_or_raise("clip_vision", args.clip_vision)) if args.clip_vision else None
    stage = Stages(args.device)
    with torch.inference_mode():  # as ComfyUI executes a prompt
        lightning = models.load_release(args.release, "ip-adapter_sd15.bin")
        for size in (args.warmup_size, args.size):
            stage.new_run()
            edit(stage, model, clip, vae, lightning, vision, *edit_inputs(size), args.mode, args.candidates)

    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    stage.report(
        f"LightningDrag {args.mode}-{steps}, {args.ckpt}, {args.size}×{args.size}, {args.candidates} candidate(s), {device}, "
        f"dtype {model.model_dtype()}, torch {torch.__version__}",
        {f"sample ({steps} steps)": steps},
    )
    comfy.model_management.unload_all_models()


if __name__ == "__main__":
    main()
