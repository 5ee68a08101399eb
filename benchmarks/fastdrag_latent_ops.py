"""Time and peak memory of FastDrag's latent operations (warp and BNNI), per operation.

Usage (from the repository root)::

    python benchmarks/fastdrag_latent_ops.py                  # CPU, one thread; CUDA too if present
    python benchmarks/fastdrag_latent_ops.py --threads 2 --device cpu
    python benchmarks/fastdrag_latent_ops.py --sizes 16 --drags 1 --repeat 1   # a quick smoke run
    python benchmarks/fastdrag_latent_ops.py --reference      # also time the per-pixel transcription
                                                              # of the official loops (tests/fastdrag/official.py)

Cases: latents of 64² and 128² (512² and 1024² images), 1, 3 and 6 drags (``--sizes``, ``--drags``), an elliptic mask around
the handles. Times are medians over ``--repeat`` runs after a warm-up; peak memory is what the
operation allocates on top of its inputs (CPU: from the torch profiler's allocation events; CUDA:
``torch.cuda.max_memory_allocated``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "devtools"))
from in_process import load_pack  # noqa: E402

load_pack()
from drag_editing_dev.drag.fastdrag.bnni import bnni  # noqa: E402
from drag_editing_dev.drag.fastdrag.warp import apply_relocation, relocation_map  # noqa: E402


def make_case(size: int, drags: int, device: str, dtype: torch.dtype, seed: int = 0):
    """A random latent, an elliptic mask and ``drags`` handle → target pairs on the quarter-pixel lattice."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    c = size / 2
    mask = ((yy - c) / (0.32 * size)) ** 2 + ((xx - c) / (0.28 * size)) ** 2 <= 1
    angle = torch.arange(drags) * (6.2832 / drags) + 0.3
    handles = torch.stack([c + 0.12 * size * angle.sin(), c + 0.12 * size * angle.cos()], 1)
    targets = handles + torch.randn(drags, 2, generator=g) * 0.08 * size
    quarter = lambda t: (torch.round(t * 4) / 4).float()  # noqa: E731
    latent = torch.randn(1, 4, size, size, generator=g).to(device, dtype)
    return latent, mask.to(device), quarter(handles), quarter(targets)


def timed(fn: Callable[[], object], device: str, repeat: int) -> float:
    """Median seconds of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_bytes(fn: Callable[[], object], device: str) -> int:
    """Peak memory allocated while ``fn`` runs, on top of what was allocated before."""
    if device == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    timeline = []
    for event in prof.events():
        if event.name == "[memory]":
            if event.cpu_memory_usage < 0:  # frees are reported as memory events
                timeline.append((event.time_range.start, event.cpu_memory_usage))
        elif event.self_cpu_memory_usage > 0:  # allocations are attributed to the op
            timeline.append((event.time_range.start, event.self_cpu_memory_usage))
    running = peak = 0
    for _, delta in sorted(timeline):
        running += delta
        peak = max(peak, running)
    return peak


def run(device: str, dtype: torch.dtype, repeat: int, reference: bool, sizes: list[int], drags_list: list[int]) -> None:
    print(f"\n{device} {str(dtype).replace('torch.', '')}" + (f", {torch.get_num_threads()} thread(s)" if device == "cpu" else f", {torch.cuda.get_device_name()}"))
    header = f"{'latent':>7} {'drags':>5} {'mask px':>7} {'holes':>5} | {'LWF+map ms':>10} {'apply ms':>8} {'BNNI ms':>8} {'total ms':>8} | {'peak KiB warp':>13} {'peak KiB BNNI':>13}"
    if reference:
        header += f" | {'per-pixel ms':>12}"
    print(header)
    print("-" * len(header))
    for size in sizes:
        for drags in drags_list:
            latent, mask, handles, targets = make_case(size, drags, device, dtype)
            src = relocation_map(mask, handles, targets)
            warped, holes = apply_relocation(latent, src)

            def total():
                w, h = apply_relocation(latent, relocation_map(mask, handles, targets))
                return bnni(w, h)

            t_map = timed(lambda: relocation_map(mask, handles, targets), device, repeat)
            t_apply = timed(lambda: apply_relocation(latent, src), device, repeat)
            t_bnni = timed(lambda: bnni(warped, holes), device, repeat)
            t_total = timed(total, device, repeat)
            m_warp = peak_bytes(lambda: apply_relocation(latent, relocation_map(mask, handles, targets)), device)
            m_bnni = peak_bytes(lambda: bnni(warped, holes), device)
            row = (
                f"{size:>4}²  {drags:>5} {int(mask.sum()):>7} {int(holes.sum()):>5} | {t_map * 1e3:>10.2f} {t_apply * 1e3:>8.2f} "
                f"{t_bnni * 1e3:>8.2f} {t_total * 1e3:>8.2f} | {m_warp / 1024:>13.0f} {m_bnni / 1024:>13.0f}"
            )
            if reference:
                row += f" | {_reference_ms(latent, mask, handles, targets):>12.0f}"
            print(row, flush=True)


def _reference_ms(latent, mask, handles, targets) -> float:
    """Milliseconds of the per-pixel transcription of the official loops (CPU, float32)."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    from fastdrag import official as ref  # it imports the pack as drag_editing_dev, loaded above

    latent, mask = latent.float().cpu(), mask.cpu()
    start = time.perf_counter()
    warped, holes = ref.continuous_drag(latent, mask, handles, targets)
    ref.bnni(warped, holes)
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: the one-core figure)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reference", action="store_true", help="also time the per-pixel transcription of the official code")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128], help="latent sides (default 64 128)")
    parser.add_argument("--drags", type=int, nargs="+", default=[1, 3, 6], help="drag counts (default 1 3 6)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}")
    if args.device in ("cpu", "all"):
        run("cpu", torch.float32, args.repeat, args.reference, args.sizes, args.drags)
    if args.device in ("cuda", "all"):
        if torch.cuda.is_available():
            for dtype in (torch.float32, torch.float16):
                run("cuda", dtype, args.repeat, False, args.sizes, args.drags)
        elif args.device == "cuda":
            sys.exit("no CUDA device")
        else:
            print("\n(no CUDA device: CUDA rows skipped)")


if __name__ == "__main__":
    main()
