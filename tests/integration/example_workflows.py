"""The example workflows (workflows/api) made runnable on the test models: every loader pointed at a random-weight
file of the right family, one small RGBA test image (kept at its size: :func:`workflow`) whose
transparent rectangle is the editable mask, drag
points inside that rectangle, sampling steps capped, and each edited latent saved (``SaveLatent``) so a test can
read it back exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import CLIP_VISION_H, LCM_LORA, LIGHTNING_RELEASE

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows" / "api"
NAMES = sorted(p.name for p in WORKFLOWS.glob("*.json"))
IMAGE = "example_workflows_source.png"
WIDTH, HEIGHT = 128, 96
FIRST_PAIRS = {"pairs": [{"handle": [40, 40], "target": [70, 44]}]}
SECOND_PAIRS = {"pairs": [{"handle": [70, 44], "target": [96, 50]}]}
EDITED_LATENTS = ("DragKSampler", "FastDragKSampler", "BNNI")


def write_image(folder: Path) -> str:
    """The 128×96 RGBA source in ``folder`` (ComfyUI's input folder): LoadImage's mask (1 - alpha) is the
    rectangle x 16-112, y 16-80. Returns its name."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (HEIGHT, WIDTH, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    pixels[16:80, 16:112, 3] = 0
    Image.fromarray(pixels, "RGBA").save(folder / IMAGE)
    return IMAGE


def checkpoint_family(name: str) -> str:
    """Which test checkpoint (conftest ``ARCHITECTURES``) a workflow loads."""
    if "LightningDrag" in name:
        return "sd15_inpaint"
    return "sdxl" if "SDXL" in name else "sd15"


def workflow(name: str, shipped: bool = False) -> dict:
    """The API workflow ``name``; unless ``shipped``, with its DragImageScale keeping the test image's size
    (``fit="keep"``): the tests' small images run at their own size, not at the model family's working size."""
    prompt = json.loads((WORKFLOWS / name).read_text())
    for node in prompt.values():
        if node["class_type"] == "DragImageScale" and not shipped:
            node["inputs"].update(fit="keep", multiple_of=8)
    return prompt


def prepared(name: str, checkpoint: str, max_steps: int = 4, image: str = IMAGE, shipped: bool = False) -> dict:
    """The API workflow ``name`` on the test models and ``image``, with DragKSampler's steps capped at
    ``max_steps`` and a ``SaveLatent`` (node id ``save_<id>``) after each node that makes an edited latent.
    ``shipped``: the image scaled and the points placed as the workflow ships (no mask), else the test image at
    its size with test points and its transparent rectangle as the mask."""
    prompt = workflow(name, shipped)
    for node_id, node in list(prompt.items()):
        inputs, kind = node["inputs"], node["class_type"]
        if kind == "CheckpointLoaderSimple":
            inputs["ckpt_name"] = checkpoint
        elif kind == "LoadImage":
            inputs["image"] = image
        elif kind == "LoadLightningDrag":
            inputs["release"] = LIGHTNING_RELEASE
        elif kind == "CLIPVisionLoader":
            inputs["clip_name"] = CLIP_VISION_H
        elif kind == "LoraLoaderModelOnly":
            inputs["lora_name"] = LCM_LORA
        elif kind == "DragPointsEditor" and not shipped:
            from_source = prompt[inputs["image"][0]]["class_type"] == "DragImageScale"
            inputs["points"] = json.dumps(FIRST_PAIRS if from_source else SECOND_PAIRS)
            if from_source:
                inputs["mask"] = ["2", 1]
        elif kind == "DragKSampler":
            inputs["steps"] = min(inputs["steps"], max_steps)
        if kind in EDITED_LATENTS:
            prompt[f"save_{node_id}"] = {
                "class_type": "SaveLatent", "inputs": {"samples": [node_id, 0], "filename_prefix": f"example_workflows/{node_id}"},
            }
    return prompt
