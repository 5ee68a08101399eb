"""DragKSampler beside other nodes' patches equals the same patches chained by hand, in-process in a real
ComfyUI (tests/integration/composition_by_hand.py, run with ComfyUI's Python)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from comfy_server import comfyui_python
from conftest import CLIP_VISION_H, LCM_LORA, LIGHTNING_RELEASE

SCRIPT = Path(__file__).with_name("composition_by_hand.py")
TINY_PATCHES = ["PerturbedAttentionGuidance", "LoraLoaderModelOnly", "DragTestImagePromptStandIn"]


def _run(comfy_root, tmp_path, config: dict) -> dict:
    (tmp_path / "config.json").write_text(json.dumps(config))
    done = subprocess.run(
        [comfyui_python(comfy_root), str(SCRIPT), str(comfy_root), str(tmp_path / "config.json"), str(tmp_path / "out.json")],
        capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads((tmp_path / "out.json").read_text())


@pytest.fixture(scope="module")
def tiny_results(comfy_root, test_models, tiny_inpaint_checkpoint, tmp_path_factory):
    return _run(comfy_root, tmp_path_factory.mktemp("by_hand"), {
        "models": str(test_models), "checkpoint": tiny_inpaint_checkpoint, "release": LIGHTNING_RELEASE,
        "ip_adapter": "ip-adapter_sd15.bin", "clip_vision": CLIP_VISION_H, "lora": LCM_LORA, "patches": TINY_PATCHES,
    })


@pytest.mark.parametrize("patch", TINY_PATCHES)
def test_dragksampler_with_the_patch_equals_it_chained_by_hand(tiny_results, patch):
    result = tiny_results[patch]
    assert result["vs_without"] > 1e-3 * result["scale"], result  # the patch's effect is in the edit
    assert result["vs_by_hand"] <= 1e-5 * max(1.0, result["scale"]), result


def test_comfyui_loads_what_the_patches_name_and_moves_their_inputs(tiny_results):
    protocol = tiny_results["protocol"]
    assert protocol["weights_loaded_with_the_model"], protocol
    assert protocol["inputs_device"] == protocol["load_device"], protocol


def test_freeu_on_the_full_size_model_equals_it_chained_by_hand(comfy_root, test_models, full_inpaint_checkpoint, full_size_lightning, tmp_path):
    release, ip_adapter = full_size_lightning
    result = _run(comfy_root, tmp_path, {
        "models": str(test_models), "checkpoint": full_inpaint_checkpoint, "release": release, "ip_adapter": ip_adapter,
        "clip_vision": CLIP_VISION_H, "lora": LCM_LORA, "patches": ["FreeU_V2"],
    })["FreeU_V2"]
    assert result["vs_without"] > 1e-3 * result["scale"], result
    assert result["vs_by_hand"] <= 1e-5 * max(1.0, result["scale"]), result
