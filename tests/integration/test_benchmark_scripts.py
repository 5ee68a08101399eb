"""Every benchmark script that runs inside ComfyUI runs on its smallest input, with ComfyUI's Python (they are code
too: a reorganisation must not break them unnoticed). Figures are not checked, only that each run completes and
reports; gpu_check's ``--smoke`` runs every workload of the GPU check on tiny models at 64² on the CPU."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from comfy_server import comfyui_python
from conftest import LIGHTNING_RELEASE

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _run(comfy_root: Path, script: str, *args: str, timeout: float = 600) -> str:
    run = subprocess.run(
        [comfyui_python(comfy_root), str(BENCHMARKS / script), *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "COMFYUI_PATH": str(comfy_root)}, cwd=BENCHMARKS.parent,
    )
    assert run.returncode == 0, f"{script} exited with {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run.stdout


@pytest.fixture(scope="module")
def checkpoints(test_models, tiny_checkpoint, tiny_inpaint_checkpoint) -> tuple[str, str]:
    folder = test_models / "checkpoints"
    return str(folder / tiny_checkpoint), str(folder / tiny_inpaint_checkpoint)


def test_fastdrag_pipeline_benchmark_runs(comfy_root, checkpoints):
    out = _run(comfy_root, "fastdrag_pipeline.py", "--ckpt", checkpoints[0], "--size", "64", "--repeat", "1")
    assert "invert (7 steps)" in out and "sample (7 steps)" in out, out


@pytest.mark.parametrize("mode", ["ddim", "lcm"])
def test_lightningdrag_pipeline_benchmark_runs(comfy_root, test_models, checkpoints, mode):
    out = _run(comfy_root, "lightningdrag_pipeline.py", "--ckpt", checkpoints[1], "--models", str(test_models),
               "--release", LIGHTNING_RELEASE, "--mode", mode, "--size", "64", "--warmup-size", "32")
    assert f"LightningDrag {mode}" in out and "sample (" in out, out


def test_launches_per_step_benchmark_runs(comfy_root, test_models, checkpoints):
    out = _run(comfy_root, "launches_per_step.py", "--ckpt", checkpoints[0], "--inpaint-ckpt", checkpoints[1],
               "--models", str(test_models), "--release", LIGHTNING_RELEASE, "--size", "64")
    assert "DragKSampler, point guidance 4" in out and "FastDragKSampler, consistency" in out, out


def _link_tiny_models(work: Path, test_models: Path, architecture) -> None:
    """gpu_check's tiny model folder (``make_models``' layout) as links to the session's test models: its own copies
    would add 4 GB to the run's disk."""
    import gpu_check

    models = work / "models_tiny"
    links = {f"checkpoints/{name}.safetensors": f"checkpoints/{architecture(arch)}" for name, arch in gpu_check.TINY.items()}
    links["ipadapter/ip-adapter_sd15.bin"] = "ipadapter/ip-adapter_sd15.bin"
    release = test_models / "lightning_drag" / LIGHTNING_RELEASE
    for file in release.rglob("*"):
        if file.is_file():
            links[f"lightning_drag/{gpu_check.RELEASE}/{file.relative_to(release)}"] = str(file.relative_to(test_models))
    for name, target in links.items():
        link = models / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(test_models / target)
    (models / "complete").touch()


def test_gpu_check_runs_every_workload_in_smoke_mode(comfy_root, test_models, architecture, request, monkeypatch):
    work = Path(request.config.cache.mkdir("drag-editing-gpu-check-smoke-v2"))
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    _link_tiny_models(work, test_models, architecture)
    out = _run(comfy_root, "gpu_check.py", "--device", "cpu", "--smoke", "--scenarios", "default", "--work", str(work),
               "--out", str(work / "results"), timeout=900)
    assert "gpu_check: all passed" in out and "FastDrag SDXL 64²" in out and "LightningDrag lcm 64², 1 candidate(s)" in out, out[-3000:]
