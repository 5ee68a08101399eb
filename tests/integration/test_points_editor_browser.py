"""The points editor canvas in a real browser: Debian's chromium driven by playwright-core (npm) against a
real ComfyUI serving the real frontend with this pack (tests/browser/points_editor.mjs does the clicking).

Needs ``node``, ``npm install`` in the repository root (playwright-core) and chromium (``apt-get install
chromium``, or ``CHROMIUM=/path``); skipped with the reason otherwise. Screenshots of the canvas are kept in
``test-artifacts/points_editor/<renderer>/``, for the classic litegraph node renderer and the frontend's
Vue-rendered nodes ("Nodes 2.0")."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "points_editor"


def _requirements() -> str | None:
    if shutil.which("node") is None:
        return "no node: install Node.js to run the browser tests"
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        return "no playwright-core: run `npm install` in the repository root"
    if not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).is_file():
        return "no chromium: `apt-get install chromium` (Debian) or set CHROMIUM to a Chromium binary"
    return None


@pytest.mark.parametrize("renderer", ["litegraph", "vue"])
def test_points_editor_in_the_browser(comfy, renderer):
    missing = _requirements()
    if missing:
        pytest.skip(missing)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (192, 256, 3), dtype=np.uint8)
    pixels[40:150, 40:180] = [200, 120, 40]
    Image.fromarray(pixels).save(comfy.dirs["input"] / "editor_source.png")
    alpha = np.full((192, 256, 1), 255, dtype=np.uint8)
    alpha[60:140, 50:200] = 0  # transparent = editable (LoadImage's MASK is 1 - alpha)
    Image.fromarray(np.concatenate([pixels, alpha], axis=2), "RGBA").save(comfy.dirs["input"] / "editor_source_alpha.png")
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "browser" / "points_editor.mjs"), comfy.url, "editor_source.png", str(ARTIFACTS / renderer), renderer],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    print(result.stdout)
    if renderer == "litegraph":
        assert "ok: points, move, delete, paint" in result.stdout and (ARTIFACTS / renderer / "2_reloaded.png").is_file()
    else:  # frontend 1.27's Vue renderer does not show custom DOM widgets yet: the JSON path must still work
        assert "ok:" in result.stdout
