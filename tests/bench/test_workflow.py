"""A workflow of the pack made into one prompt per DragBench sample: overrides, the nodes a sample changes, and
the editor's document at the size the workflow's scale node gives it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drag_editing_dev.drag.bench.samples import Sample
from drag_editing_dev.drag.bench.workflow import BenchWorkflow, apply_overrides
from drag_editing_dev.drag.editor import mask_edits
from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.points import DragPoints

API = Path(__file__).resolve().parents[2] / "workflows" / "api"


def workflow(name: str) -> dict:
    return json.loads((API / f"{name}.json").read_text())


def sample(tmp_path: Path, size=(400, 300)) -> Sample:
    image = tmp_path / "original_image.png"
    Image.new("RGB", size).save(image)
    mask = np.zeros(size[::-1], bool)
    mask[100:200, 40:360] = True
    return Sample("animals", "cat", image, "a photo of a cat", (((100.0, 150.0), (300.0, 120.0)),), mask)


def test_overrides_by_id_and_by_class_with_json_values():
    prompt = workflow("Drag - FastDrag SD1.5, SD2")
    out = apply_overrides(prompt, ["CheckpointLoaderSimple.ckpt_name=tiny.safetensors", "9.seed=7", "30.size=64", "9.consistency=false"])
    assert out["1"]["inputs"]["ckpt_name"] == "tiny.safetensors"
    assert out["9"]["inputs"]["seed"] == 7 and out["30"]["inputs"]["size"] == 64 and out["9"]["inputs"]["consistency"] is False
    assert prompt["9"]["inputs"]["seed"] == 0  # the workflow itself is left as it was


@pytest.mark.parametrize("override, words", [
    ("seed=1", "NODE.input=value"),
    ("NoSuchNode.seed=1", "has no node NoSuchNode"),
    ("9.no_such_input=1", "has no input no_such_input"),
    ("9.latent=1", "wired to node 8"),
])
def test_a_bad_override_says_what_there_is(override, words):
    with pytest.raises(DragInputError, match=words):
        apply_overrides(workflow("Drag - FastDrag SD1.5, SD2"), [override])


@pytest.mark.parametrize("name, texts, scale, save", [
    ("Drag - FastDrag SD1.5, SD2", ("5",), "30", "11"),
    ("Drag - FastDrag SDXL", ("5",), "30", "11"),
    ("Drag - LightningDrag DDIM", (), "30", "12"),
    ("Drag - LightningDrag LCM", (), "30", "12"),
    ("Drag - FastDrag warp preview", (), "30", "8"),
])
def test_the_nodes_each_sample_changes_are_found_in_every_single_drag_workflow(name, texts, scale, save):
    bench = BenchWorkflow.of(workflow(name))
    assert (bench.load, bench.editor, bench.scale, bench.texts, bench.save) == ("2", "3", scale, texts, save)


def test_workflows_that_cannot_take_a_sample_are_refused():
    with pytest.raises(DragInputError, match="one DragPointsEditor.*has 2"):
        BenchWorkflow.of(workflow("Drag twice - LightningDrag"))
    two_saves = workflow("Drag - FastDrag SD1.5, SD2") | {"12": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": "x"}}}
    with pytest.raises(DragInputError, match="--output-node.*2 SaveImage"):
        BenchWorkflow.of(two_saves)
    assert BenchWorkflow.of(two_saves, "12").save == "12"
    no_load = workflow("Drag - FastDrag SD1.5, SD2")
    no_load["30"]["inputs"]["image"] = ["1", 0]
    with pytest.raises(DragInputError, match="from a LoadImage"):
        BenchWorkflow.of(no_load)


def test_a_sample_goes_into_the_load_the_editor_and_the_prompt(tmp_path):
    bench = BenchWorkflow.of(apply_overrides(workflow("Drag - FastDrag SD1.5, SD2"), ["30.size=200"]))
    s = sample(tmp_path)
    assert bench.editor_size(*s.size) == (200, 152)  # fit width 200, the height 150 rounded to a multiple of 8
    prompt = bench.for_sample(s, "dragbench_animals__cat.png")
    assert prompt["2"]["inputs"]["image"] == "dragbench_animals__cat.png"
    assert prompt["5"]["inputs"]["text"] == "a photo of a cat"
    document = prompt["3"]["inputs"]["points"]
    points = DragPoints.from_json(document)
    assert (points.width, points.height) == (200, 152)
    assert points.handles[0] == pytest.approx((50.0, 150 * 152 / 300)) and points.targets[0] == pytest.approx((150.0, 120 * 152 / 300))
    painted = mask_edits(json.loads(document), 200, 152)
    expected = np.asarray(Image.fromarray(s.mask.astype(np.uint8) * 255).resize((200, 152), Image.NEAREST)) > 127
    assert np.array_equal(painted.numpy() > 0, expected)


def test_without_a_scale_node_the_editor_sees_the_photo(tmp_path):
    prompt = workflow("Drag - FastDrag SD1.5, SD2")
    prompt["3"]["inputs"]["image"] = ["2", 0]
    bench = BenchWorkflow.of(prompt)
    assert bench.scale is None and bench.editor_size(400, 300) == (400, 300)
