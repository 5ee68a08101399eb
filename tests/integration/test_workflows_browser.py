"""The example workflows in a real browser (tests/browser/workflows.mjs): listed in the Templates browser
with their thumbnails, loaded by the real frontend, with every node as large as that frontend draws it and
none covering another, in the litegraph and the Vue node renderer of every frontend of the ``frontend``
fixture (browser_env.py). Screenshots are kept in ``test-artifacts/workflows/<frontend version>/<renderer>/``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from browser_env import browser_missing, vue_beta
from comfy_server import PACK_NAME

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "workflows"


@pytest.mark.parametrize("renderer", ["litegraph", "vue"])
def test_example_workflows_in_the_browser(frontend, comfy_root, renderer):
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    comfy, version = frontend
    example = comfy_root / "input" / "example.png"  # what their LoadImage names
    if example.is_file():
        shutil.copy(example, comfy.dirs["input"] / "example.png")
    else:  # a ComfyUI from a source archive has no input/example.png: a stand-in of its size
        Image.new("RGB", (768, 768), (128, 96, 64)).save(comfy.dirs["input"] / "example.png")
    command = ["node", str(ROOT / "tests" / "browser" / "workflows.mjs"), comfy.url, PACK_NAME, str(ARTIFACTS / version / renderer), renderer]
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as stalled:
        pytest.fail(f"workflows.mjs stalled; its output so far:\n{stalled.stdout}\n{stalled.stderr}")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    print(result.stdout)
    workflows = sorted(p.stem for p in (ROOT / "workflows").glob("*.json"))
    assert f"frontend {version}, {renderer}: {len(workflows)} workflows" in result.stdout
    for name in workflows:
        if vue_beta(version, renderer):  # its Vue renderer sizes every node itself: nothing a workflow's layout can govern
            assert f"ok: {name} loads; layout not checked" in result.stdout
        else:
            assert f"ok: {name} (" in result.stdout
