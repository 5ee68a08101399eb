"""Kernel launches and host syncs per sampling step of LightningDrag's DragKSampler and FastDrag's FastDragKSampler,
each against a plain ComfyUI sampler on the same model, inputs and CFG, run in-process inside a real ComfyUI.

Run it with ComfyUI's Python (random weights are fine: the counts do not depend on them)::

    python devtools/lightningdrag_files.py /tmp/ld_models --widths 320 320 320 320      # for tiny checkpoints
    COMFYUI_PATH=/opt/comfy33/ComfyUI $COMFYUI_PATH/../venv/bin/python benchmarks/launches_per_step.py \\
        --ckpt drag_test_sd15_tiny.safetensors --inpaint-ckpt drag_test_sd15_tiny_inpaint.safetensors \\
        --models /tmp/ld_models --size 256 [--device cuda]

Counted with ``torch.profiler``: on CUDA the kernel launches (``cudaLaunchKernel`` and its kin) and host syncs
(stream, device and event synchronisations, and reads of a tensor's value); on the CPU the top-level ATen
operators stand in for launches and reads of a tensor's value for syncs. Per step = the difference between a
3-step and a 6-step run over 3, so what a run does once cancels out:

* LightningDrag: DragKSampler (DDIM, point guidance 4: two passes a step, one candidate) against the sampler
  on the same inpainting model and conditioning with CFG 4;
* FastDrag: FastDragKSampler (consistency on, CFG 1) against the sampler on the same model, latent and schedule.

Goals (issue 17): LightningDrag within +15 % of the plain sampler's launches, FastDrag within +5 %, no host
sync in a step.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from comfy_bench import boot_from_env, checkpoint, edit_inputs, per_step, use_model_folders  # boot_from_env loads the pack as drag_editing_dev


def plain(patcher, cfg: float, sigmas, conditioning: list, latent):
    """ComfyUI's ddim sampler on ``patcher`` from ``latent`` (no noise added) over ``sigmas``, positive and negative
    both ``conditioning``: what a KSampler does with the same model and inputs."""
    import comfy.sample
    import comfy.samplers
    import torch

    return comfy.sample.sample_custom(patcher, torch.zeros_like(latent), cfg, comfy.samplers.sampler_object("ddim"), sigmas,
                                      conditioning, conditioning, latent, disable_pbar=True, seed=0)


def plain_inpainting(inpaint, vae, bank, image, mask, steps: int, candidates: int = 1):
    """The plain sampler beside DragKSampler: the same inpainting model, inpainting conditioning, DDIM schedule,
    CFG 4 and batch, without LightningDrag's patches."""
    import comfy.samplers

    from drag_editing_dev.nodes import lightningdrag_sampling as ld

    source = bank.source.repeat(candidates, 1, 1, 1)
    conditioning = ld.inpaint_conditioning(bank.conditioning, vae, image, mask, tuple(source.shape[-2:]))
    sigmas = comfy.samplers.calculate_sigmas(inpaint.get_model_object("model_sampling"), "ddim_uniform", steps).cpu()
    return plain(inpaint, 4.0, sigmas, conditioning, source)


def compare(model, inpaint, clip, vae, lightning, size: int, device: str) -> dict[str, dict[str, float]]:
    """Launches and syncs per step of each method and of the plain sampler it runs beside (``model``: an SD
    model for FastDrag, ``inpaint``: an SD1.5 inpainting one for LightningDrag, ``lightning``: the loaded
    release). Returns ``{name: {"launches": ..., "syncs": ...}}``."""
    import torch

    from drag_editing_dev.drag.fastdrag.image_space import fill_holes, warp_latent
    from drag_editing_dev.drag.lightningdrag.guidance import PointGuidance
    from drag_editing_dev.nodes import fastdrag_sampling as fd
    from drag_editing_dev.nodes import lightningdrag_sampling as ld
    from drag_editing_dev.nodes.comfy_sampling import empty_prompt

    image, mask, points = edit_inputs(size)
    latent = {"samples": vae.encode(image)}
    bank = ld.encode_appearance(lightning, clip, latent)
    embeds = ld.embed(lightning, points, mask, 0)
    embedding = type("RandomEmbeds", (), {"image_embeds": torch.randn(1, 1024, generator=torch.Generator().manual_seed(0))})()
    counts = {
        "plain KSampler, CFG 4 (inpainting model)": per_step(lambda n: plain_inpainting(inpaint, vae, bank, image, mask, n), device),
        "DragKSampler, point guidance 4": per_step(lambda n: ld.drag_sample(
            inpaint, ld.DragInputs.of(lightning, bank, embeds, embedding), ld.EditSource(vae, image, mask),
            ld.Sampling(0, n, "ddim", "ddim_uniform"), PointGuidance(4.0, "inv_square")), device),
    }
    positive = empty_prompt(clip)
    records = {}
    for steps, strength in ((3, 0.3), (6, 0.6)):
        noisy, kv = fd.invert(model, latent, positive, 10, strength, False)
        records[steps] = ({"samples": fill_holes(*warp_latent(noisy["samples"], points, mask))}, kv)
    counts["plain KSampler, CFG 1"] = per_step(lambda n: plain(
        model, 1.0, records[n][1].sampling_sigmas(), positive, records[n][0]["samples"]), device)
    counts["FastDragKSampler, consistency"] = per_step(lambda n: fd.sample(
        model, records[n][1], records[n][0], True, "ddim", 0), device)
    return {name: {"launches": launches, "syncs": syncs} for name, (launches, syncs) in counts.items()}


def report(counts: dict[str, dict[str, float]]) -> str:
    """The table of :func:`compare`'s counts, each method's launches as a ratio of the plain sampler's before it."""
    lines = [f"{'per sampling step':<44} {'launches':>9} {'vs plain':>9} {'host syncs':>11}"]
    plain = None
    for name, c in counts.items():
        if name.startswith("plain"):
            plain, ratio = c["launches"], ""
        else:
            ratio = f"{c['launches'] / plain - 1:+.1%}"
        lines.append(f"{name:<44} {c['launches']:>9.1f} {ratio:>9} {c['syncs']:>11.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ckpt", default="drag_test_sd15_tiny.safetensors")
    parser.add_argument("--inpaint-ckpt", default="drag_test_sd15_tiny_inpaint.safetensors")
    parser.add_argument("--models", type=Path, required=True, help="folder with lightning_drag/ and ipadapter/ (devtools/lightningdrag_files.py)")
    parser.add_argument("--release", default="rand-lightning-drag")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    boot_from_env(args.device)

    import torch

    from drag_editing_dev.nodes import lightningdrag_models as models

    use_model_folders(args.models)
    model, clip, vae = checkpoint(args.ckpt)
    inpaint, inpaint_clip, inpaint_vae = checkpoint(args.inpaint_ckpt)
    with torch.inference_mode():  # as ComfyUI executes a prompt
        lightning = models.load_release(args.release, "ip-adapter_sd15.bin")
        counts = compare(model, inpaint, inpaint_clip, inpaint_vae, lightning, args.size, args.device)
    print(f"{args.size}×{args.size}, {args.device}, torch {torch.__version__}")
    print(report(counts))


if __name__ == "__main__":
    main()
