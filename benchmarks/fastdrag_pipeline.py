"""Per-stage time and peak memory of a whole FastDrag edit, run in-process inside a real ComfyUI.

Run it with ComfyUI's Python::

    COMFYUI_PATH=/opt/comfy/ComfyUI $COMFYUI_PATH/../venv/bin/python benchmarks/fastdrag_pipeline.py \\
        --ckpt rand_sd15_tiny.safetensors --size 512 [--device cpu|cuda] [--repeat 2] [--offload]

It loads the checkpoint (a name in ComfyUI's checkpoints folder, or a path) of any architecture the
pack supports (SD1.5, SD2.x, SDXL; a random-weight one from ``shared/tools/make_rand_sd15.py`` or
``devtools/make_rand_checkpoint.py`` is fine: timing does not depend on the weights), then
runs the example workflow's stages through the pack's own node functions: VAE encode, FastDragInvert
(10 steps, strength 0.7: 7 UNet steps; ``--offload``: with ``offload_kv``), FastDragWarp + BNNI,
FastDragKSampler (7 steps), VAE decode. The first run warms up (model loading, kernel selection) and
is not reported. Peak memory is ``torch.cuda.max_memory_allocated`` on CUDA and the process's peak
resident set growth on CPU. Besides the record as it was kept, the report gives its size in fp16.
"""

from __future__ import annotations

import argparse
import os

from comfy_bench import Stages, boot_from_env, checkpoint, edit_inputs  # boot_from_env loads the pack as drag_editing_dev


STEPS = {"invert (7 steps)": 7, "sample (7 steps)": 7}


def edit(stage: Stages, model, clip, vae, image, mask, points, offload: bool = False):
    """One FastDrag edit through the pack's node functions, each stage timed by ``stage``. Returns the edited
    latent and the K/V record."""
    from drag_editing_dev.drag.fastdrag.image_space import fill_holes, warp_latent
    from drag_editing_dev.nodes import fastdrag_sampling as fd
    from drag_editing_dev.nodes.comfy_sampling import empty_prompt

    positive = empty_prompt(clip)
    latent = stage("VAE encode", lambda: {"samples": vae.encode(image)})
    noisy, kv = stage("invert (7 steps)", lambda: fd.invert(model, latent, positive, 10, 0.7, offload))
    warped = stage("warp + BNNI", lambda: fill_holes(*warp_latent(noisy["samples"], points, mask)))
    edited = stage("sample (7 steps)", lambda: fd.sample(model, kv, {"samples": warped}, True, "ddim", 0))
    stage("VAE decode", lambda: vae.decode(edited["samples"]))
    stage.note(f"K/V record ({next(iter(kv.states.values())).device})", kv.nbytes)
    return edited["samples"], kv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ckpt", default="rand_sd15_tiny.safetensors")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--offload", action="store_true", help="FastDragInvert's offload_kv")
    args = parser.parse_args()
    boot_from_env(args.device)

    import comfy.model_management
    import torch

    from drag_editing_dev.drag.fastdrag.architectures import record_bytes

    model, clip, vae = checkpoint(args.ckpt)
    image, mask, points = edit_inputs(args.size)
    stage = Stages(args.device)
    with torch.inference_mode():  # as ComfyUI executes a prompt
        for _ in range(args.repeat + 1):
            stage.new_run()
            edit(stage, model, clip, vae, image, mask, points, args.offload)
            latent_shape = (1, 4, args.size // 8, args.size // 8)
            stage.note("K/V record in fp16", record_bytes(model.model.model_config.unet_config, latent_shape, 7, 2))

    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    stage.report(
        f"FastDrag, {os.path.basename(args.ckpt)} ({type(model.model.model_config).__name__}), {args.size}×{args.size}, {device}, "
        f"dtype {model.model_dtype()}, torch {torch.__version__}",
        STEPS,
    )
    comfy.model_management.unload_all_models()


if __name__ == "__main__":
    main()
