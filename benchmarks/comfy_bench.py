"""What the in-ComfyUI benchmarks share: loading ComfyUI and the pack in-process, timing stages with
their peak memory, and printing the table."""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "drag_editing_bench"


def setup_comfy(device: str) -> None:
    """Import ComfyUI from ``COMFYUI_PATH`` for ``device`` ("cpu" or "cuda") and the pack as ``drag_editing_bench``."""
    comfy_path = os.environ.get("COMFYUI_PATH")
    if not comfy_path:
        sys.exit("set COMFYUI_PATH to a ComfyUI folder")
    sys.path.insert(0, comfy_path)
    os.chdir(comfy_path)
    import comfy.cli_args

    comfy.cli_args.args.cpu = device == "cpu"
    import comfy.model_management  # noqa: F401  (after the device choice)

    spec = importlib.util.spec_from_file_location(PACKAGE, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
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
