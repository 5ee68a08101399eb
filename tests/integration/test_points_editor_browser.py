"""The points editor canvas in a real browser: Debian's chromium driven by playwright-core (npm) against a
real ComfyUI serving the real frontend with this pack (tests/browser/points_editor.mjs does the clicking).

Needs ``node``, ``npm install`` in the repository root (playwright-core) and chromium (``apt-get install
chromium``, or ``CHROMIUM=/path``); skipped with the reason otherwise. It runs on the frontend installed with
ComfyUI and on every frontend named in ``COMFYUI_FRONTEND_ROOTS`` (``static`` folders of
comfyui-frontend-package, separated by ``:``; e.g. ``pip install --target DIR comfyui-frontend-package==1.58.1``
gives ``DIR/comfyui_frontend_package/static``), each served by its own ComfyUI (``--front-end-root``), in the
classic litegraph node renderer and the frontend's Vue-rendered nodes ("Nodes 2.0"). Screenshots are kept
in ``test-artifacts/points_editor/<frontend version>/<renderer>/``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comfy_server import ComfyServer, comfyui_python

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


def _frontend_roots() -> list[Path | None]:
    """None (the frontend installed with ComfyUI), then each of ``COMFYUI_FRONTEND_ROOTS``."""
    return [None] + [Path(p) for p in os.environ.get("COMFYUI_FRONTEND_ROOTS", "").split(os.pathsep) if p]


def _version(root: Path | None, comfy_root: Path) -> str:
    if root is None:
        found = subprocess.run([comfyui_python(comfy_root), "-c", "import importlib.metadata as m; print(m.version('comfyui-frontend-package'))"],
                               capture_output=True, text=True)
        return found.stdout.strip() or "installed"
    info = sorted(root.resolve().parents[1].glob("comfyui_frontend_package-*.dist-info"))
    match = re.search(r"-(\d+\.\d+\.\d+)", info[0].name) if info else None
    return match.group(1) if match else root.name


@pytest.fixture(scope="module", params=_frontend_roots(), ids=lambda root: "installed-frontend" if root is None else f"frontend-{root.parents[1].name}")
def frontend(request, comfy, comfy_root, test_models, tmp_path_factory):
    """(server, frontend version): the session's ComfyUI, or one serving the frontend at ``request.param``."""
    if request.param is None:
        yield comfy, _version(None, comfy_root)
        return
    if not (request.param / "index.html").is_file():
        pytest.fail(f"COMFYUI_FRONTEND_ROOTS names {request.param}, which holds no frontend (index.html)")
    server = ComfyServer.start(comfy_root, tmp_path_factory.mktemp("comfyui_frontend"), test_models, front_end_root=request.param)
    yield server, _version(request.param, comfy_root)
    server.stop()


@pytest.mark.parametrize("renderer", ["litegraph", "vue"])
def test_points_editor_in_the_browser(frontend, renderer):
    missing = _requirements()
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
    if renderer == "vue" and tuple(int(p) for p in version.split(".")[:3]) < (1, 29, 3):
        # frontend 1.27's Vue renderer shows no custom DOM widgets: the typed-JSON path must still work
        assert "ok: the canvas is not rendered by this renderer; typed JSON points work" in result.stdout
    else:
        assert "ok: points, move, delete, paint" in result.stdout and (artifacts / "2_reloaded.png").is_file()
