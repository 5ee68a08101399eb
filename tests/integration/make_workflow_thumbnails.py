"""Write the Templates browser's thumbnail of every example workflow: ``workflows/<name>.jpg``, a picture of the
workflow's points editor with ComfyUI's ``example.png`` (the image its LoadImage names) and the workflow's pairs,
as the real frontend draws it.

Usage (with COMFYUI_PATH set, chromium and ``npm install`` done)::

    python tests/integration/make_workflow_thumbnails.py

It starts a ComfyUI with this pack (comfy_server.py) and drives tests/browser/workflows.mjs in its
``--thumbnails`` mode. Run it again after a workflow's points or layout change.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from comfy_server import PACK_NAME, ComfyServer, comfyui_path

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 320  # the Templates browser shows cards about this wide


def main() -> None:
    root = comfyui_path()
    if root is None:
        sys.exit("set COMFYUI_PATH to the ComfyUI folder (the one holding main.py)")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        server = ComfyServer.start(root, work / "comfyui")
        try:
            shutil.copy(root / "input" / "example.png", server.dirs["input"] / "example.png")
            shots = work / "shots"
            subprocess.run(["node", str(ROOT / "tests" / "browser" / "workflows.mjs"), server.url, PACK_NAME, str(work / "artifacts"),
                            "litegraph", "--thumbnails", str(shots)], cwd=ROOT, check=True)
        finally:
            server.stop()
        for shot in sorted(shots.glob("*.png")):
            image = Image.open(shot).convert("RGB")
            image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
            target = ROOT / "workflows" / f"{shot.stem}.jpg"
            image.save(target, quality=85, optimize=True)
            print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
