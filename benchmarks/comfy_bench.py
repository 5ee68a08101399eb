"""What the in-ComfyUI benchmarks share: ComfyUI and the pack in-process (``boot_from_env`` and ``load_pack``, from
devtools/in_process.py; the pack is ``drag_editing_dev``), the edit's inputs, timing stages with their peak memory
and printing the table, and counting kernel launches and host syncs per sampling step."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "devtools"))  # the tools tests and benchmarks share (devtools/README.md)

from in_process import boot_from_env, load_pack  # noqa: E402,F401  (the benchmarks import them from here)


def use_model_folders(models: Path, names: Sequence[str] = ("lightning_drag", "ipadapter")) -> None:
    """Point ComfyUI's model folders ``names`` at the subfolders of ``models`` (random files the benchmarks write)."""
    import folder_paths

    for name in names:
        folder_paths.folder_names_and_paths[name] = ([str(models / name)], folder_paths.supported_pt_extensions)


def checkpoint(name: str):
    """(MODEL, CLIP, VAE) of checkpoint ``name`` (a file in ComfyUI's checkpoints folder, or a path), as
    CheckpointLoaderSimple loads it."""
    import comfy.sd
    import folder_paths

    path = name if os.path.isfile(name) else folder_paths.get_full_path_or_raise("checkpoints", name)
    return comfy.sd.load_checkpoint_guess_config(path, embedding_directory=folder_paths.get_folder_paths("embeddings"))[:3]


def edit_inputs(size: int, height: int | None = None):
    """A random ``size`` × ``height`` image [1, H, W, 3], the editable mask [1, H, W] (the middle half) and one
    drag pair from 40 % to 60 % of the width, as the pack's :class:`DragPoints`."""
    import torch

    from drag_editing_dev.drag.points import DragPoints

    height = height or size
    image = torch.rand(1, height, size, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, height, size)
    mask[:, height // 4 : 3 * height // 4, size // 5 : 4 * size // 5] = 1
    points = DragPoints.from_pairs([((size * 0.4, height * 0.5), (size * 0.6, height * 0.48))], size, height)
    return image, mask, points


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


class Stages:
    """Times named stages over several runs; :meth:`report` prints medians (the first run is warm-up)."""

    def __init__(self, device: str):
        self.device = device
        self.runs: list[dict[str, tuple[float, int]]] = []

    def new_run(self) -> None:
        self.runs.append({})

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        import torch

        sync = torch.cuda.synchronize if self.device == "cuda" else (lambda: None)
        sync()
        with Peak(self.device) as peak:
            start = time.perf_counter()
            out = fn()
            sync()
            elapsed = time.perf_counter() - start
        self.runs[-1][name] = (elapsed, peak.bytes)
        return out

    def note(self, name: str, nbytes: int) -> None:
        """A size without a time (e.g. a record kept between stages)."""
        self.runs[-1][name] = (0.0, nbytes)

    def report(self, title: str, steps: dict[str, int]) -> None:
        """Print each stage's median time (and per step for stages named in ``steps``) and peak memory."""
        measured = self.runs[1:] or self.runs
        print(title)
        print(f"{'stage':<24} {'time s':>8} {'per step s':>10} {'peak MiB':>9}")
        total = 0.0
        for name in measured[0]:
            t = statistics.median(r[name][0] for r in measured)
            peak = max(r[name][1] for r in measured)
            total += t
            per_step = f"{t / steps[name]:>10.3f}" if name in steps else " " * 10
            print(f"{name:<24} {t:>8.3f} {per_step} {peak / 2**20:>9.1f}")
        print(f"{'total':<24} {total:>8.3f}")


SYNCS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize", "aten::_local_scalar_dense")
LAUNCHES = ("cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx")


def _count(run: Callable[[], Any], device: str) -> tuple[int, int]:
    """Kernel launches (on the CPU: top-level ATen operators) and host syncs of ``run()``."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        run()
        if device == "cuda":
            torch.cuda.synchronize()
    if device == "cuda":  # names only: building the profiler's event tree for a whole run takes minutes
        names = [e.name() for e in prof.profiler.kineto_results.events()]
        return sum(n in LAUNCHES for n in names), sum(n in SYNCS for n in names)
    events = prof.events()
    top = sum(e.name.startswith("aten::") and (e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::")) for e in events)
    return top, sum(e.name in SYNCS for e in events)


def per_step(run: Callable[[int], Any], device: str, steps: tuple[int, int] = (3, 6)) -> tuple[float, float]:
    """Launches and host syncs per sampling step of ``run(steps)``: the difference between runs of two lengths
    over the difference in steps, so what a run does once (its first-call setup) cancels out; after a run
    that is not counted (loading the models, choosing kernels)."""
    run(steps[0])
    (l0, s0), (l1, s1) = (_count(lambda n=n: run(n), device) for n in steps)
    return (l1 - l0) / (steps[1] - steps[0]), (s1 - s0) / (steps[1] - steps[0])
