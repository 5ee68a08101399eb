"""Per-stage time and peak memory of a whole FastDrag edit, run in-process inside a real ComfyUI.

Run it with ComfyUI's Python::

    COMFYUI_PATH=/opt/comfy/ComfyUI $COMFYUI_PATH/../venv/bin/python benchmarks/fastdrag_pipeline.py \\
        --ckpt rand_sd15_tiny.safetensors --size 512 [--device cpu|cuda] [--repeat 2]

It loads the checkpoint from ComfyUI's checkpoints folder (a random-weight one from
``shared/tools/make_rand_sd15.py`` is fine: timing does not depend on the weights), then runs the
example workflow's stages through the pack's own node functions: VAE encode, FastDragInvert
(10 steps, strength 0.7: 7 UNet steps), FastDragWarp + BNNI, FastDragKSampler (7 steps), VAE decode.
The first run warms up (model loading, kernel selection) and is not reported. Peak memory is
``torch.cuda.max_memory_allocated`` on CUDA and the process's peak resident set growth on CPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_comfy(device: str):
    comfy_path = os.environ.get("COMFYUI_PATH")
    if not comfy_path:
        sys.exit("set COMFYUI_PATH to a ComfyUI folder")
    sys.path.insert(0, comfy_path)
    os.chdir(comfy_path)
    import comfy.cli_args

    comfy.cli_args.args.cpu = device == "cpu"
    import comfy.model_management  # noqa: F401  (after the device choice)

    spec = importlib.util.spec_from_file_location("drag_editing_bench", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["drag_editing_bench"] = module
    spec.loader.exec_module(module)


class Peak:
    """Peak memory of a block of work: CUDA allocator peak, or growth of the process's peak RSS."""

    def __init__(self, device: str):
        self.device = device

    def __enter__(self):
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            self.base = self._hwm()
        return self

    def __exit__(self, *exc):
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
            self.bytes = torch.cuda.max_memory_allocated() - self.base
        else:
            self.bytes = self._hwm() - self.base

    @staticmethod
    def _hwm() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ckpt", default="rand_sd15_tiny.safetensors")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    _setup_comfy(args.device)

    import comfy.model_management
    import comfy.sd
    import folder_paths
    import torch

    from drag_editing_bench.drag.points import DragPoints
    from drag_editing_bench.nodes import fastdrag_sampling as fd
    from drag_editing_bench.nodes.comfy_sampling import empty_prompt
    from drag_editing_bench.drag.fastdrag.image_space import fill_holes, warp_latent

    model, clip, vae = comfy.sd.load_checkpoint_guess_config(
        folder_paths.get_full_path_or_raise("checkpoints", args.ckpt), embedding_directory=folder_paths.get_folder_paths("embeddings")
    )[:3]
    size = args.size
    image = torch.rand(1, size, size, 3, generator=torch.Generator().manual_seed(0))
    points = DragPoints.from_pairs([((size * 0.4, size * 0.5), (size * 0.6, size * 0.48))], size, size)
    mask = torch.zeros(1, size, size)
    mask[:, size // 4 : 3 * size // 4, size // 5 : 4 * size // 5] = 1
    positive = empty_prompt(clip)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)

    def stage(name, fn, results):
        sync()
        with Peak(args.device) as peak:
            start = time.perf_counter()
            out = fn()
            sync()
            elapsed = time.perf_counter() - start
        results.setdefault(name, []).append((elapsed, peak.bytes))
        return out

    runs: list[dict] = []
    with torch.inference_mode():  # as ComfyUI executes a prompt
        for _ in range(args.repeat + 1):
            results: dict = {}
            latent = stage("VAE encode", lambda: {"samples": vae.encode(image)}, results)
            noisy, kv = stage("invert (7 steps)", lambda: fd.invert(model, latent, positive, 10, 0.7, False), results)
            warped = stage("warp + BNNI", lambda: fill_holes(*warp_latent(noisy["samples"], points, mask)), results)
            edited = stage("sample (7 steps)", lambda: fd.sample(model, kv, {"samples": warped}, True, 1.0, "ddim", 0, None, None), results)
            stage("VAE decode", lambda: vae.decode(edited["samples"]), results)
            results["K/V record"] = [(0.0, kv.nbytes)]
            runs.append(results)

    measured = runs[1:]
    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"FastDrag, {args.ckpt}, {size}×{size}, {device}, dtype {model.model_dtype()}, torch {torch.__version__}")
    print(f"{'stage':<18} {'time s':>8} {'per step s':>10} {'peak MiB':>9}")
    total = 0.0
    for name in measured[0]:
        times = [r[name][0][0] for r in measured]
        peak = max(r[name][0][1] for r in measured)
        t = statistics.median(times)
        total += t
        per_step = f"{t / 7:>10.3f}" if "steps" in name else " " * 10
        print(f"{name:<18} {t:>8.3f} {per_step} {peak / 2**20:>9.1f}")
    print(f"{'total':<18} {total:>8.3f}")
    comfy.model_management.unload_all_models()


if __name__ == "__main__":
    main()
