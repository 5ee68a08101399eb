"""Write the Templates browser's thumbnail of every example workflow: ``workflows/<name>.jpg``, a square (the
cards show a square) with the canvas of the workflow's points editor, ComfyUI's ``example.png`` (the image its
LoadImage names) and the workflow's pairs as the real frontend draws them (the warp preview workflow with the
editor's preview on), above a caption, large enough to read on a card, that says what sets the workflow apart.

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
SIZE = 320  # the Templates browser's cards are about this wide, and show a square
BAND = 84  # the caption's height
CAPTIONS = {  # what sets each workflow apart, on its card (the editors alone look alike)
    "Drag - FastDrag SD1.5, SD2": ("FastDrag", "SD1.5, SD2 · training-free"),
    "Drag - FastDrag SDXL": ("FastDrag", "SDXL · about 1 megapixel"),
    "Drag - FastDrag warp preview": ("FastDrag warp preview", "VAE only · seconds, no sampling"),
    "Drag - LightningDrag DDIM": ("LightningDrag", "DDIM 25 steps · 4 candidates"),
    "Drag - LightningDrag LCM": ("LightningDrag", "LCM-LoRA 8 steps · 4 candidates"),
    "Drag twice - LightningDrag": ("LightningDrag twice", "2nd drag on a chosen candidate"),
}


def thumbnail(canvas: Image.Image, title: str, line: str) -> Image.Image:
    """The editor's ``canvas`` fitted above a band naming the workflow's method (larger) and what sets it apart."""
    out = Image.new("RGB", (SIZE, SIZE), (24, 24, 28))
    room = (SIZE, SIZE - BAND)
    scale = min(room[0] / canvas.width, room[1] / canvas.height)
    picture = canvas.resize((round(canvas.width * scale), round(canvas.height * scale)), Image.LANCZOS)
    out.paste(picture, ((room[0] - picture.width) // 2, (room[1] - picture.height) // 2))
    draw = ImageDraw.Draw(out)
    for text, y, size, colour in [(title, 10, 26, (245, 245, 245)), (line, 48, 17, (190, 200, 215))]:
        font = ImageFont.load_default(size=size)
        if draw.textlength(text, font=font) > SIZE - 24:
            raise ValueError(f"caption {text!r} is wider than the thumbnail: shorten it")
        draw.text((12, room[1] + y), text, fill=colour, font=font)
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
            image = thumbnail(Image.open(shot).convert("RGB"), *CAPTIONS[shot.stem])
            target = ROOT / "workflows" / f"{shot.stem}.jpg"
            image.save(target, quality=85, optimize=True)
            print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
