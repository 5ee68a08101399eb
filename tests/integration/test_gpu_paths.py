"""The GPU's precision and placement paths forced on a CPU inside a real ComfyUI (gpu_paths_in_process.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from comfy_server import comfyui_python
from helpers import relative_error

SCRIPT = Path(__file__).with_name("gpu_paths_in_process.py")
# Relative L2 error of the edited latents allowed against fp32, about twice what the tiny random models give on
# ComfyUI 0.33 (measured, LightningDrag / FastDrag: fp16 0.0024 / 0.0039, bf16 0.020 / 0.036, fp8 0.11 / 0.30).
TOLERANCE = {"fp16": 0.01, "bf16": 0.08, "fp8": 0.6}


def _run(comfy_root, models, scenario, out):
    done = subprocess.run(
        [comfyui_python(comfy_root), str(SCRIPT), str(comfy_root), str(models), scenario, str(out)],
        capture_output=True, text=True, timeout=1800, cwd=SCRIPT.parent,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads(out.with_suffix(".json").read_text())


@pytest.fixture(scope="module")
def fp32(comfy_root, test_models, architecture, tmp_path_factory):
    architecture("sd15"), architecture("sd15_inpaint")
    out = tmp_path_factory.mktemp("gpu_paths") / "fp32"
    info = _run(comfy_root, test_models, "fp32", out)
    return info, load_file(out.with_suffix(".safetensors"))


@pytest.mark.parametrize("scenario", list(TOLERANCE))
def test_edits_in_the_compute_dtype_a_gpu_uses(scenario, fp32, comfy_root, test_models, tmp_path):
    info = _run(comfy_root, test_models, scenario, tmp_path / scenario)
    compute = {"fp16": "torch.float16", "bf16": "torch.bfloat16", "fp8": "torch.float16"}[scenario]
    storage = {"fp16": "torch.float16", "bf16": "torch.bfloat16", "fp8": "torch.float8_e4m3fn"}[scenario]
    assert info["unet_compute"] == compute and info["unet_storage"] == storage
    # The pack's modules follow the UNet's policy: stored like it, computed in its compute dtype, never in fp8.
    assert info["point_net"] == [storage, compute] and info["attention"] == [storage, compute]
    assert info["record"] == compute and info["bank"] == info["embeds"] == "cpu"  # outputs wait on the offload device
    edits, reference = load_file((tmp_path / scenario).with_suffix(".safetensors")), fp32[1]
    for method in ("lightningdrag", "fastdrag"):
        assert bool(torch.isfinite(edits[method]).all()), method
        error = relative_error(edits[method], reference[method])
        print(scenario, method, round(error, 4))
        assert error < TOLERANCE[scenario], (method, error)
    assert fp32[0]["point_net"] == ["torch.float32", "torch.float32"]


def test_partially_loaded_pack_models_compute_where_the_activations_are(comfy_root, test_models, architecture, tmp_path):
    architecture("sd15_inpaint")
    report = _run(comfy_root, test_models, "placement", tmp_path / "placement")
    for name in ("points", "attention"):
        # ComfyUI left every layer on the offload device and casts it per call (its low-VRAM path).
        assert report[name]["weights_on"] == ["cpu"] and report[name]["casting"] == report[name]["layers"] > 0, report
    assert report["attention_blocks"] == 16 and report["start_on"] == "meta" and report["record_on"] == ["meta"]
    assert report["inpainting_on"] == ["meta"]  # a decoded image on the device and LoadImage's mask on the CPU


def test_a_model_split_across_gpus_is_refused_before_sampling(comfy_root, test_models, architecture, tmp_path):
    architecture("sd15"), architecture("sd15_inpaint")
    refusals = _run(comfy_root, test_models, "multigpu", tmp_path / "multigpu")
    if "skipped" in refusals:
        pytest.skip(refusals["skipped"])
    for node, message in refusals.items():
        assert message is not None and message.startswith("model: it is set up to split sampling across several GPUs"), (node, message)
        assert "MultiGPU" in message, message
