"""What the browser tests need: Debian's chromium driven by playwright-core (npm), and the frontends to test.

They need ``node``, ``npm install`` in the repository root (playwright-core) and chromium (``apt-get install
chromium``, or ``CHROMIUM=/path``); each test skips with the reason otherwise. They run on the frontend
installed with ComfyUI and on every frontend named in ``COMFYUI_FRONTEND_ROOTS`` (``static`` folders of
comfyui-frontend-package, separated by ``:``; e.g. ``pip install --target DIR comfyui-frontend-package==1.58.1``
gives ``DIR/comfyui_frontend_package/static``), each served by its own ComfyUI (``--front-end-root``; the
``frontend`` fixture in conftest.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from comfy_server import PACK_ROOT, comfyui_python


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if shutil.which("node") is None:
        return "no node: install Node.js to run the browser tests"
    if not (PACK_ROOT / "node_modules" / "playwright-core").is_dir():
        return "no playwright-core: run `npm install` in the repository root"
    if not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).is_file():
        return "no chromium: `apt-get install chromium` (Debian) or set CHROMIUM to a Chromium binary"
    return None


def frontend_roots() -> list[Path | None]:
    """None (the frontend installed with ComfyUI), then each of ``COMFYUI_FRONTEND_ROOTS``."""
    return [None] + [Path(p) for p in os.environ.get("COMFYUI_FRONTEND_ROOTS", "").split(os.pathsep) if p]


def frontend_version(root: Path | None, comfy_root: Path) -> str:
    """The version of the frontend at ``root`` (None: the one installed with the ComfyUI at ``comfy_root``)."""
    if root is None:
        found = subprocess.run([comfyui_python(comfy_root), "-c", "import importlib.metadata as m; print(m.version('comfyui-frontend-package'))"],
                               capture_output=True, text=True)
        return found.stdout.strip() or "installed"
    info = sorted(root.resolve().parents[1].glob("comfyui_frontend_package-*.dist-info"))
    match = re.search(r"-(\d+\.\d+\.\d+)", info[0].name) if info else None
    return match.group(1) if match else root.name


def vue_beta(version: str, renderer: str) -> bool:
    """Whether ``renderer`` is the Vue node renderer of a frontend before 1.29.3 (the "Nodes 2.0" beta of
    ComfyUI 0.3.64's frontend 1.27): it shows no custom DOM widgets and sizes every node to its content."""
    return renderer == "vue" and tuple(int(p) for p in version.split(".")[:3]) < (1, 29, 3)
