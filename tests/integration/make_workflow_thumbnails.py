"""Write the Templates browser's thumbnail of every example workflow: ``workflows/<name>.jpg``, a picture of the
workflow's points editor with ComfyUI's ``example.png`` (the image its LoadImage names) and the workflow's pairs,
as the real frontend draws it, above a caption that says what sets the workflow apart.

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

from PIL import Image, ImageDraw, ImageFont

from comfy_server import PACK_NAME, ComfyServer, comfyui_path

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 320  # the Templates browser shows cards about this wide
CAPTIONS = {  # what sets each workflow apart, on its card (the editors alone look alike)
    "FastDrag - SD1.5 and SD2.x": ("FastDrag", "SD1.5 / SD2.x · training-free, 10 steps"),
    "FastDrag - SDXL": ("FastDrag", "SDXL · about 1 megapixel"),
    "FastDrag - warp preview": ("FastDrag warp preview", "VAE only · seconds, no sampling"),
    "LightningDrag - 4 candidates, DDIM 25 steps": ("LightningDrag", "SD1.5 inpainting · DDIM 25 · 4 candidates"),
    "LightningDrag - 4 candidates, LCM-LoRA 8 steps": ("LightningDrag", "LCM-LoRA · 8 steps · 4 candidates"),
    "LightningDrag - sequential drag": ("LightningDrag sequential", "two drags, the 2nd on a chosen candidate"),
}


def captioned(image: Image.Image, title: str, line: str) -> Image.Image:
    """``image`` with a band below it naming the workflow's method (bold-ish, larger) and what sets it apart."""
    band = 58
    out = Image.new("RGB", (image.width, image.height + band), (24, 24, 28))
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    draw.text((10, image.height + 6), title, fill=(245, 245, 245), font=ImageFont.load_default(size=20))
    draw.text((10, image.height + 33), line, fill=(190, 200, 215), font=ImageFont.load_default(size=15))
    return out


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
            image = captioned(image, *CAPTIONS[shot.stem])
            target = ROOT / "workflows" / f"{shot.stem}.jpg"
            image.save(target, quality=85, optimize=True)
            print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
