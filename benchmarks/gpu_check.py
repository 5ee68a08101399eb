"""The pack on a real GPU, in one command: every method under ComfyUI's default flags (dynamic VRAM where the
ComfyUI has it), ``--fp8_e4m3fn-unet``, ``--novram`` and ``--gpu-only``, with time and peak memory per stage,
kernel launches per sampling step against a plain sampler, and the edits compared across the flags.

Run it with the Python of a ComfyUI on a CUDA machine (0.33 for dynamic VRAM; the pack's requirements installed)::

    COMFYUI_PATH=/path/to/ComfyUI python benchmarks/gpu_check.py [--work /tmp/drag_gpu_check] [--out DIR]

It writes full-size random-weight models into ``--work`` once (an SD1.5 and an SD1.5 inpainting checkpoint, an
SDXL checkpoint, a LightningDrag release and IP-Adapter for SD1.5's widths: about 12 GB, 1-2 minutes; timing
and memory do not depend on the weights), then starts one ComfyUI process per flag set (flags are read when
ComfyUI starts), which runs:

* FastDrag on SD1.5 at 512² and on SDXL at 1024² (invert 7 steps, warp, BNNI, sample 7 steps);
* LightningDrag DDIM-25 (point guidance 4) and LCM-8 (point guidance 3) at 512², 1 and 4 candidates
  (random image embeddings stand in for CLIP vision, which is not part of the pack);
* the plain ddim sampler on the same inpainting model and inputs (CFG 4, 1 and 4 latents), for the time
  LightningDrag adds;
* with the default flags also: kernel launches and host syncs per step of each method against the plain
  sampler (benchmarks/launches_per_step.py), and FastDrag sampled once from the record in system memory
  (streamed step by step) and once from a copy on the GPU, which must give the same latent.

Each workload runs once at a quarter of the area to warm up (loading, kernel choice), then is measured. The
report prints per stage the time and the peak of ``torch.cuda.max_memory_allocated`` above what was allocated
before the stage, and each flag set's edits against the other flag sets' (relative L2 error). It exits non-zero
when any workload fails or gives a non-finite latent. ``--device cpu --tiny`` runs the same script on tiny
models on a CPU (to try it; CPU flags change little); ``--smoke`` also shrinks the images to 64² and the
batches to one (tests/integration/test_benchmark_scripts.py runs it so).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIOS = {"default": [], "fp8": ["--fp8_e4m3fn-unet"], "novram": ["--novram"], "gpu-only": ["--gpu-only"]}
NEEDS_A_GPU = ("novram", "gpu-only")  # ComfyUI refuses these flags beside --cpu
FULL = {"sd15": "sd15_full", "sd15_inpaint": "sd15_inpaint_full", "sdxl": "sdxl_full"}
TINY = {"sd15": "sd15", "sd15_inpaint": "sd15_inpaint", "sdxl": "sdxl"}
RELEASE = "rand-lightning-drag"


def make_models(work: Path, tiny: bool) -> Path:
    """The random-weight model folder under ``work`` (made once, the files written in parallel)."""
    models = work / ("models_tiny" if tiny else "models")
    done = models / "complete"
    if done.exists():
        return models
    (models / "checkpoints").mkdir(parents=True, exist_ok=True)
    comfy = os.environ["COMFYUI_PATH"]
    jobs = [
        subprocess.Popen([sys.executable, str(ROOT / "devtools/make_rand_checkpoint.py"), comfy, arch,
                          str(models / "checkpoints" / f"{name}.safetensors")])
        for name, arch in (TINY if tiny else FULL).items()
    ]
    widths = ["320"] * 4 if tiny else ["320", "640", "1280", "1280"]
    jobs.append(subprocess.Popen([sys.executable, str(ROOT / "devtools/lightningdrag_files.py"), str(models), "--widths", *widths, "--fp16"]))
    if any(job.wait() != 0 for job in jobs):
        sys.exit("gpu_check: writing the random models failed (see above)")
    done.touch()
    return models


def worker(scenario: str, models: Path, out: Path, device: str, smoke: bool = False) -> None:
    """One ComfyUI process: the workloads under ``scenario``'s flags; writes ``out/<scenario>.json`` and ``.safetensors``."""
    sys.path.insert(0, str(HERE))
    from comfy_bench import Stages, boot_from_env, checkpoint, edit_inputs, use_model_folders

    dynamic = boot_from_env(device, SCENARIOS[scenario])
    import comfy.utils
    import torch
    from safetensors.torch import save_file

    import fastdrag_pipeline
    import launches_per_step
    import lightningdrag_pipeline
    from drag_editing_dev.nodes import lightningdrag_models
    from drag_editing_dev.nodes import fastdrag_sampling as fd

    comfy.utils.PROGRESS_BAR_ENABLED = False  # the report is the output
    use_model_folders(models, ("checkpoints", "lightning_drag", "ipadapter"))
    load = lambda name: checkpoint(f"{name}.safetensors")  # noqa: E731
    tiny = models.name.endswith("tiny")
    side, xl_side = (64, 64) if smoke else (128, 256) if tiny else (512, 1024)
    batches = (1,) if smoke else (1, 4)
    results = {"scenario": scenario, "flags": SCENARIOS[scenario], "dynamic_vram": dynamic, "errors": {}, "stages": {},
               "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__,
               "comfyui": _comfyui_version()}
    edits = {}
    began = time.perf_counter()

    def save(done: str) -> None:
        """Write what is known so far (a flag set stopped at its time limit still reports its workloads)."""
        print(f"gpu_check: {scenario}: {done} at {time.perf_counter() - began:.0f} s", flush=True)
        save_file(edits, str(out / f"{scenario}.safetensors"))
        (out / f"{scenario}.json").write_text(json.dumps(results, indent=1))

    def workload(name, run, size):
        """``run(stage, image, mask, points)`` at a quarter of the area, then measured at ``size``."""
        start = time.perf_counter()
        try:
            stage = Stages(device)
            for s in (size // 2, size):
                stage.new_run()
                edited = run(stage, *edit_inputs(s))
            edits[name] = edited.float().cpu().contiguous()
            if not bool(torch.isfinite(edits[name]).all()):
                results["errors"][name] = "non-finite latent"
            results["stages"][name] = {k: list(v) for k, v in stage.runs[-1].items()}
        except Exception as error:  # one failure must not hide the other workloads' figures
            results["errors"][name] = f"{type(error).__name__}: {str(error)[:600]}"
        results["stages"].setdefault(name, {})["wall s"] = [time.perf_counter() - start, 0]
        save(name)

    with torch.inference_mode():  # as ComfyUI executes a prompt
        model, clip, vae = load("sd15")
        inpaint, inpaint_clip, inpaint_vae = load("sd15_inpaint")
        lightning = lightningdrag_models.load_release(RELEASE, "ip-adapter_sd15.bin")
        records = {}

        def fastdrag(key, m, c, v):
            def run(stage, image, mask, points):
                edited, records[key] = fastdrag_pipeline.edit(stage, m, c, v, image, mask, points)
                return edited
            return run

        workload(f"FastDrag SD1.5 {side}²", fastdrag("sd15", model, clip, vae), side)
        for mode, sampling_model in (("ddim", inpaint), ("lcm", lightningdrag_pipeline.lcm(inpaint))):
            for candidates in batches:
                workload(f"LightningDrag {mode} {side}², {candidates} candidate(s)", lambda stage, *inputs, m=sampling_model, mode=mode, c=candidates:
                         lightningdrag_pipeline.edit(stage, m, inpaint_clip, inpaint_vae, lightning, None, *inputs, mode, c)[0], side)
        for candidates in batches:  # the plain sampler on the same model and inputs, for the time LightningDrag adds
            workload(f"plain KSampler ddim {side}², CFG 4, {candidates} latent(s)", lambda stage, image, mask, points, c=candidates: _plain(
                stage, inpaint, inpaint_clip, inpaint_vae, lightning, image, mask, points, c), side)
        xl, xl_clip, xl_vae = load("sdxl")
        workload(f"FastDrag SDXL {xl_side}²", fastdrag("sdxl", xl, xl_clip, xl_vae), xl_side)
        if scenario == "default":
            results["streamed_equals_resident"] = _streamed_equals_resident(fd, model, records.get("sd15"), device)
            if results["streamed_equals_resident"] is False:
                results["errors"]["record"] = "FastDrag sampled from the record on the device differs from the streamed record"
            save("streamed record")
            try:  # the counts do not depend on the image size: the smaller one keeps the profiles short
                counts = launches_per_step.compare(model, inpaint, inpaint_clip, inpaint_vae, lightning, side // 2, device)
                results["launches"] = counts
                results["launches_report"] = launches_per_step.report(counts)
            except Exception as error:
                results["errors"]["launches"] = f"{type(error).__name__}: {str(error)[:600]}"

    save("all")


def _plain(stage, inpaint, clip, vae, lightning, image, mask, points, candidates: int):
    """The plain ddim sampler beside DragKSampler (launches_per_step.plain_inpainting), 25 steps, timed."""
    import launches_per_step
    from drag_editing_dev.nodes import lightningdrag_sampling as ld

    bank = stage("VAE + appearance encode", lambda: ld.encode_appearance(lightning, clip, {"samples": vae.encode(image)}))
    return stage("sample (25 steps)", lambda: launches_per_step.plain_inpainting(inpaint, vae, bank, image, mask, 25, candidates))


def _streamed_equals_resident(fd, model, kv, device: str) -> bool | None:
    """Sample one latent from ``kv`` as FastDragInvert left it (system memory: streamed per step) and from a copy
    on the device: the same arithmetic, so the same latent. None when there is no record to try."""
    if kv is None or device != "cuda":
        return None
    import dataclasses

    import torch

    latent = {"samples": torch.randn(kv.latent_shape, generator=torch.Generator().manual_seed(0))}
    on_device = dataclasses.replace(kv, states={k: v.to(device) for k, v in kv.states.items()})
    streamed = fd.sample(model, kv, latent, True, "ddim", 0)["samples"]
    resident = fd.sample(model, on_device, latent, True, "ddim", 0)["samples"]
    return bool(torch.equal(streamed, resident))


def _comfyui_version() -> str:
    try:
        from comfyui_version import __version__
    except ImportError:
        return "?"
    return __version__


def report(out: Path, scenarios: list[str]) -> bool:
    """Print every scenario's figures and its edits against each earlier flag set's (results of earlier runs in
    ``out`` included); True when all went well."""
    from safetensors.torch import load_file

    ok = True
    done = [s for s in SCENARIOS if (out / f"{s}.safetensors").exists()]
    earlier = {}
    for scenario in scenarios:
        path = out / f"{scenario}.json"
        if not path.exists():
            print(f"\n== {scenario}: no result (the process failed; see its output above)")
            ok = False
            continue
        r = json.loads(path.read_text())
        print(f"\n== {scenario} {' '.join(r['flags'])}: {r['device']}, torch {r['torch']}, ComfyUI {r['comfyui']}, "
              f"dynamic VRAM {'on' if r['dynamic_vram'] else 'off'}")
        for name, stages in r["stages"].items():
            print(f"  {name}")
            for stage, (seconds, peak) in stages.items():
                size = f"{peak / 2**20:9.1f} MiB" if stage != "wall s" else ""
                print(f"    {stage:<28} {seconds:8.3f} s {size}")
        if "launches_report" in r:
            print("  " + r["launches_report"].replace("\n", "\n  "))
        if r.get("streamed_equals_resident") is not None:
            print(f"  FastDrag from the streamed record equals it from the device: {r['streamed_equals_resident']}")
        edits = load_file(out / f"{scenario}.safetensors")
        for other in done[: done.index(scenario)] if scenario in done else done:
            reference = earlier.setdefault(other, load_file(out / f"{other}.safetensors"))
            for name in sorted(edits.keys() & reference.keys()):
                error = float((edits[name].double() - reference[name].double()).norm() / reference[name].double().norm())
                print(f"  vs {other}, {name}: relative error {error:.4f}")
        for name, error in r["errors"].items():
            print(f"  ERROR {name}: {error}")
            ok = False
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/drag_gpu_check"))
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: WORK/results)")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny models (to try the script on a CPU)")
    parser.add_argument("--smoke", action="store_true", help="tiny models, 64² images, one candidate: checks that the script runs")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--timeout", type=float, default=240, help="seconds per flag set")
    parser.add_argument("--worker", choices=list(SCENARIOS), help=argparse.SUPPRESS)
    parser.add_argument("--models", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = args.out or args.work / "results"
    if args.worker:
        worker(args.worker, args.models, out, args.device, args.smoke)
        return
    args.tiny = args.tiny or args.smoke
    if "COMFYUI_PATH" not in os.environ:
        sys.exit("set COMFYUI_PATH to a ComfyUI folder")
    if args.device == "cpu":
        print(f"gpu_check: on the CPU, without {', '.join(NEEDS_A_GPU)} (they need CUDA)")
        args.scenarios = [s for s in args.scenarios if s not in NEEDS_A_GPU]
    start = time.perf_counter()
    models = make_models(args.work, args.tiny)
    print(f"gpu_check: models ready in {time.perf_counter() - start:.0f} s", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    for scenario in args.scenarios:
        began = time.perf_counter()
        command = [sys.executable, __file__, "--worker", scenario, "--models", str(models), "--out", str(out), "--device", args.device]
        command += ["--smoke"] if args.smoke else []
        try:
            subprocess.run(command, timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            print(f"gpu_check: {scenario} ran past {args.timeout:.0f} s and was stopped", flush=True)
        print(f"gpu_check: {scenario} took {time.perf_counter() - began:.0f} s", flush=True)
    ok = report(out, args.scenarios)
    print(f"\ngpu_check: {'all passed' if ok else 'FAILED'} in {time.perf_counter() - start:.0f} s")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
