"""What the points editor reads of its workflow (drag/prompt_graph.py, drag/editor.check_workflow): a scale wired
in front of the editor alone, and a drag FastDragWarp would refuse, are refused at the editor, on the shipped
example workflows as a user would rewire them."""

import json
from pathlib import Path

import torch

from helpers import error_of
from drag_editing_dev.drag.editor import check_workflow
from drag_editing_dev.drag.points import DragPoints
from drag_editing_dev.drag.prompt_graph import bypassed_resize, warps_fed_by

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows" / "api"
FASTDRAG = "Drag - FastDrag SD1.5, SD2.json"
LIGHTNING = "Drag - LightningDrag DDIM.json"


def _workflow(name: str) -> dict:
    return json.loads((WORKFLOWS / name).read_text())


def _scale_in_front_of_the_editor(prompt: dict, kind: str = "ImageScale") -> dict:
    """What a user does first: a node between the shipped scale and the editor only."""
    prompt["31"] = {"class_type": kind, "inputs": {"image": prompt["3"]["inputs"]["image"], "width": 256, "height": 256}}
    prompt["3"]["inputs"]["image"] = ["31", 0]
    return prompt


def test_the_shipped_workflows_pass():
    for path in WORKFLOWS.glob("*.json"):
        prompt = json.loads(path.read_text())
        editors = [n for n, node in prompt.items() if node["class_type"] == "DragPointsEditor"]
        assert editors and all(bypassed_resize(prompt, n) is None for n in editors), path.name


def test_a_scale_in_front_of_the_editor_alone_names_the_encoder_and_the_node_to_connect():
    msg = bypassed_resize(_scale_in_front_of_the_editor(_workflow(FASTDRAG)), "3")
    assert msg.startswith("image: the points are placed on the image that comes through ImageScale (node 31), but "
                          "VAEEncode (node 4) takes its pixels from before it (DragImageScale (node 30))"), msg
    assert "Connect VAEEncode (node 4)'s pixels to the output of ImageScale (node 31)" in msg
    lightning = _scale_in_front_of_the_editor(_workflow(LIGHTNING))
    lightning["4"]["inputs"]["pixels"] = ["31", 0]  # one encoder fixed, DragKSampler's image still bypasses it
    assert "DragKSampler (node 10) takes its image from before it" in bypassed_resize(lightning, "3")


def test_a_scale_further_up_or_another_kind_of_node_is_no_problem():
    prompt = _workflow(FASTDRAG)
    prompt["31"] = {"class_type": "ImageScale", "inputs": {"image": ["2", 0]}}
    prompt["30"]["inputs"]["image"] = ["31", 0]  # in front of everything
    assert bypassed_resize(prompt, "3") is None
    assert bypassed_resize(_scale_in_front_of_the_editor(_workflow(FASTDRAG), "ImageInvert"), "3") is None


def test_an_encode_of_the_photo_for_something_else_is_left_alone():
    prompt = _scale_in_front_of_the_editor(_workflow(FASTDRAG))
    prompt["4"]["inputs"]["pixels"] = ["31", 0]
    prompt["50"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["30", 0], "vae": ["1", 2]}}
    prompt["51"] = {"class_type": "SaveLatent", "inputs": {"samples": ["50", 0]}}
    assert bypassed_resize(prompt, "3") is None


def test_the_warps_the_editor_can_check():
    prompt = _workflow(FASTDRAG)
    assert warps_fed_by(prompt, "3") == [("7", True)]
    del prompt["7"]["inputs"]["mask"]
    assert warps_fed_by(prompt, "3") == [("7", False)]
    prompt["7"]["inputs"]["mask"] = ["2", 1]  # a mask the editor does not know
    assert warps_fed_by(prompt, "3") == []


def test_a_handle_outside_the_warps_circle_is_refused_at_the_editor():
    prompt = _workflow(FASTDRAG)
    mask = torch.zeros(1, 96, 128)
    mask[:, 40:56, 40:72] = 1
    points = DragPoints.from_pairs([((50, 48), (60, 48)), ((120, 8), (100, 8))], 128, 96)
    msg = error_of(check_workflow, prompt, "3", points, mask)
    assert msg.startswith("mask: the handle of pair 2") and msg.endswith(
        "(FastDragWarp, node 7, takes these points; the editor checks them before the encode and inversion run.)"), msg
    check_workflow(prompt, "3", DragPoints.from_pairs([((50, 48), (60, 48))], 128, 96), mask)
    del prompt["7"]["inputs"]["mask"]  # no mask: the whole image's circle, which leaves out the corners only
    check_workflow(prompt, "3", points, mask)
    assert error_of(check_workflow, prompt, "3", DragPoints.from_pairs([((127, 95), (120, 90))], 128, 96), mask).startswith("points: the handle of pair 1")
