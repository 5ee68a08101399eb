"""FastDrag's K/V record on SDXL, in-process in a real ComfyUI (tests/integration/fastdrag_record_in_process.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from comfy_server import comfyui_python

SCRIPT = Path(__file__).with_name("fastdrag_record_in_process.py")


def test_record_size_is_known_before_the_inversion(comfy_root, test_models, architecture, tmp_path):
    checkpoint = test_models / "checkpoints" / architecture("sdxl")
    done = subprocess.run(
        [comfyui_python(comfy_root), str(SCRIPT), str(comfy_root), str(checkpoint), str(tmp_path / "out.json")],
        capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["family"] == "SDXL" and result["latent_shape"] == [1, 4, 32, 48]
    assert len(result["layers"]) == 36
    assert result["recorded"] == result["computed"] == 7 * (30 * 8 * 12 + 6 * 16 * 24) * 320 * 4
    # The budget leaves out the weights ComfyUI has still to load and the sampling work it reserves.
    assert result["work"] > 0 and result["to_load"] > 100 * 2**20
    assert 0 < result["budget"] < result["free"] - result["work"] - result["to_load"]
