"""The points editor canvas in a real browser: Debian's chromium driven by playwright-core (npm) against a
real ComfyUI serving the real frontend with this pack (tests/browser/points_editor.mjs does the clicking).

Needs ``node``, ``npm install`` in the repository root (playwright-core) and chromium (``apt-get install
chromium``, or ``CHROMIUM=/path``); skipped with the reason otherwise. Screenshots of the canvas are kept in
``test-artifacts/points_editor/``."""

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


def test_points_editor_in_the_browser(comfy):
    missing = _requirements()
    if missing:
        pytest.skip(missing)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (192, 256, 3), dtype=np.uint8)
    pixels[40:150, 40:180] = [200, 120, 40]
    Image.fromarray(pixels).save(comfy.dirs["input"] / "editor_source.png")
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "browser" / "points_editor.mjs"), comfy.url, "editor_source.png", str(ARTIFACTS)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert (ARTIFACTS / "2_reloaded.png").is_file()
