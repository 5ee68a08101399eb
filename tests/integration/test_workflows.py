"""The example workflows in workflows/: each UI workflow is its API twin, and the API twins run."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from example_workflows import checkpoint_family, prepared, workflow
from workflow_format import api_from_ui

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
UI_WORKFLOWS = sorted(WORKFLOWS.glob("*.json"))


def _api(name: str) -> dict:
    return json.loads((WORKFLOWS / "api" / name).read_text())


def test_every_ui_workflow_has_an_api_twin():
    assert UI_WORKFLOWS
    for ui in UI_WORKFLOWS:
        assert (WORKFLOWS / "api" / ui.name).is_file(), f"{ui.name} has no API twin in workflows/api"


@pytest.mark.parametrize("ui_path", UI_WORKFLOWS, ids=lambda p: p.stem)
def test_ui_workflow_converts_to_its_api_twin(comfy, ui_path):
    ui = json.loads(ui_path.read_text())
    assert api_from_ui(ui, comfy.get("/object_info")) == _api(ui_path.name)


def test_warp_preview_workflow_runs(comfy, tiny_checkpoint):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (192, 256, 3), dtype=np.uint8)).save(comfy.dirs["input"] / "drag_source.png")
    prompt = workflow("Drag - FastDrag warp preview.json")
    prompt["1"]["inputs"]["ckpt_name"] = tiny_checkpoint
    prompt["2"]["inputs"]["image"] = "drag_source.png"
    prompt["3"]["inputs"]["points"] = json.dumps({"pairs": [{"handle": [100, 90], "target": [150, 90]}]})
    image = lambda outputs, node: Image.open(io.BytesIO(comfy.fetch(outputs[node]["images"][0])))  # noqa: E731
    outputs = comfy.run(prompt)["outputs"]
    saved = image(outputs, "8")
    assert saved.size == (256, 192)
    assert image(outputs, "10").size == (256, 192)  # the holes preview
    again = comfy.run(prompt)["outputs"]
    assert np.array_equal(np.asarray(saved), np.asarray(image(again, "8")))


@pytest.mark.parametrize("name, size", [("Drag - FastDrag SD1.5, SD2.json", (512, 384)),
                                        ("Drag - LightningDrag DDIM.json", (576, 448)),
                                        ("Drag twice - LightningDrag.json", (576, 448))])
def test_example_workflow_runs_as_shipped_on_a_large_photo(comfy, architecture, name, size):
    """A 2400×1800 photo through the workflow as it ships (its scale, its demo pairs, no mask; for the CPU,
    LightningDrag runs 2 steps and 1 candidate): scaled once to the working size its demo uses, edited, saved
    at that size; the sequential workflow's second pair lies on step 1's result as shipped."""
    y, x = np.mgrid[0:1800, 0:2400]
    photo = np.stack([x % 256, y % 256, (x + y) % 256], axis=-1).astype(np.uint8)  # compresses; any content will do
    Image.fromarray(photo).save(comfy.dirs["input"] / "large_photo.png")
    prompt = prepared(name, architecture(checkpoint_family(name)), max_steps=2, image="large_photo.png", shipped=True)
    for node in prompt.values():
        if node["class_type"] == "DragKSampler":
            node["inputs"]["candidates"] = 1
    outputs = comfy.run(prompt)["outputs"]
    for saved in (n for n, node in prompt.items() if node["class_type"] == "SaveImage"):  # both steps of the sequential one
        images = [Image.open(io.BytesIO(comfy.fetch(image))) for image in outputs[saved]["images"]]
        assert images and all(image.size == size for image in images), (saved, [image.size for image in images])
