"""The points editor canvas in a real browser: Debian's chromium driven by playwright-core (npm) against a
real ComfyUI serving the real frontend with this pack (tests/browser/points_editor.mjs does the clicking).

Runs on every frontend of the ``frontend`` fixture (browser_env.py says what it needs and which frontends),
in the classic litegraph node renderer and the frontend's Vue-rendered nodes ("Nodes 2.0"). Screenshots are
kept in ``test-artifacts/points_editor/<frontend version>/<renderer>/``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser_env import browser_missing, vue_beta

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "points_editor"


@pytest.mark.parametrize("renderer", ["litegraph", "vue"])
def test_points_editor_in_the_browser(frontend, renderer):
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    comfy, version = frontend
    artifacts = ARTIFACTS / version / renderer
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (192, 256, 3), dtype=np.uint8)
    pixels[40:150, 40:180] = [200, 120, 40]
    Image.fromarray(pixels).save(comfy.dirs["input"] / "editor_source.png")
    alpha = np.full((192, 256, 1), 255, dtype=np.uint8)
    alpha[60:140, 50:200] = 0  # transparent = editable (LoadImage's MASK is 1 - alpha)
    Image.fromarray(np.concatenate([pixels, alpha], axis=2), "RGBA").save(comfy.dirs["input"] / "editor_source_alpha.png")
    Image.fromarray(pixels).resize((192, 256)).save(comfy.dirs["input"] / "editor_source_portrait.png")  # another size: the rescale notice
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "browser" / "points_editor.mjs"), comfy.url, "editor_source.png", str(artifacts), renderer],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    print(result.stdout)
    assert f"frontend {version}," in result.stdout, result.stdout
    if vue_beta(version, renderer):
        # frontend 1.27's Vue renderer shows no custom DOM widgets: the typed-JSON path must still work
        assert "ok: the canvas is not rendered by this renderer; typed JSON points work" in result.stdout
    else:
        assert "ok: points, move, delete, paint" in result.stdout and (artifacts / "2_reloaded.png").is_file()
