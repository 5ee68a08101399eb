"""The pack inside a real ComfyUI: it loads, its nodes are listed with tooltips, and they execute."""

from __future__ import annotations

import io
import json

import pytest
import torch
from PIL import Image
from safetensors.torch import load, save_file

from comfy_server import PACK_NAME, ExecutionFailed, quick_test
from drag_editing_dev.drag.fastdrag.image_space import fill_holes, warp_latent
from drag_editing_dev.drag.points import DragPoints

OUR_NODES = [
    "DragImageScale", "DragPointsEditor", "FastDragWarp", "BNNI", "FastDragInvert", "FastDragKSampler", "FastDragConsistency",
    "LoadLightningDrag", "AppearanceEncode", "PointEmbed", "DragKSampler",
]
POINTS = {"width": 256, "height": 192, "pairs": [{"handle": [100, 90], "target": [140, 84]}, {"handle": [60, 130], "target": [52, 140]}]}


def test_pack_imports_cleanly_in_quick_test(comfy_root, tmp_path):
    output = quick_test(comfy_root, tmp_path)
    lines = [line for line in output.splitlines() if PACK_NAME in line]
    assert lines, output[-3000:]
    assert not any("IMPORT FAILED" in line for line in lines), "\n".join(lines)


def test_object_info_lists_every_node_with_tooltips(comfy):
    info = comfy.get("/object_info")
    for name in OUR_NODES:
        assert name in info, f"{name} missing from /object_info"
        node = info[name]
        assert node["category"].startswith("drag editing")
        assert node["description"]
        for group in ("required", "optional"):
            for input_name, spec in node["input"].get(group, {}).items():
                assert len(spec) > 1 and spec[1].get("tooltip"), f"{name}.{input_name} has no tooltip"
        assert len(node["output_tooltips"]) == len(node["output"]) and all(node["output_tooltips"])
    if any("search_aliases" in node for node in info.values()):  # ComfyUI 0.33 lists them; 0.3.64 has none
        for name in OUR_NODES:
            aliases = info[name].get("search_aliases") or []
            assert {"move object", "move points", "handle target", "DragGAN", "DragDiffusion"} <= set(aliases), (name, aliases)
        assert "inpaint drag" in info["DragKSampler"]["search_aliases"]
    assert info["FastDragWarp"]["output"] == ["LATENT", "MASK"]
    assert info["FastDragWarp"]["output_name"] == ["latent", "holes"]
    assert info["DragPointsEditor"]["output"] == ["IMAGE", "DRAG_POINTS", "MASK"]
    assert info["DragPointsEditor"]["output_name"] == ["image", "points", "mask"]


def _prompt(latent_file: str, points: dict) -> dict:
    """EmptyImage → DragPointsEditor; rectangle MASK; LoadLatent → FastDragWarp → BNNI → SaveLatent."""
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 256, "height": 192, "batch_size": 1, "color": 0}},
        "2": {"class_type": "SolidMask", "inputs": {"value": 0.0, "width": 256, "height": 192}},
        "3": {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 150, "height": 110}},
        "4": {"class_type": "MaskComposite", "inputs": {"destination": ["2", 0], "source": ["3", 0], "x": 30, "y": 50, "operation": "add"}},
        "5": {"class_type": "DragPointsEditor", "inputs": {"image": ["1", 0], "points": json.dumps(points), "mask": ["4", 0]}},
        "6": {"class_type": "LoadLatent", "inputs": {"latent": latent_file}},
        "7": {"class_type": "FastDragWarp", "inputs": {"latent": ["6", 0], "points": ["5", 1], "mask": ["5", 2], "aggregation": "inverse_distance", "hole_fill": "zero"}},
        "8": {"class_type": "BNNI", "inputs": {"latent": ["7", 0], "holes": ["7", 1]}},
        "9": {"class_type": "SaveLatent", "inputs": {"samples": ["8", 0], "filename_prefix": "drag_test/filled"}},
        "10": {"class_type": "MaskToImage", "inputs": {"mask": ["7", 1]}},
        "11": {"class_type": "SaveImage", "inputs": {"images": ["10", 0], "filename_prefix": "drag_test/holes"}},
    }


@pytest.fixture
def latent_file(comfy):
    samples = torch.randn(2, 4, 24, 32, generator=torch.Generator().manual_seed(7))
    save_file({"latent_tensor": samples, "latent_format_version_0": torch.tensor([])}, comfy.dirs["input"] / "drag_test.latent")
    return "drag_test.latent", samples


def test_warp_and_bnni_run_in_comfyui_and_match_the_method_code(comfy, latent_file):
    name, samples = latent_file
    entry = comfy.run(_prompt(name, POINTS))
    saved = load(comfy.fetch(entry["outputs"]["9"]["latents"][0]))["latent_tensor"]

    mask = torch.zeros(1, 192, 256)
    mask[:, 50:160, 30:180] = 1
    warped, holes = warp_latent(samples, DragPoints.from_json(json.dumps(POINTS)), mask)
    expected = fill_holes(warped, holes)
    assert torch.equal(saved, expected)
    assert not torch.equal(saved, samples)
    holes_image = Image.open(io.BytesIO(comfy.fetch(entry["outputs"]["11"]["images"][0])))
    assert holes_image.size == (256, 192)

    again = comfy.run(_prompt(name, POINTS))
    assert torch.equal(load(comfy.fetch(again["outputs"]["9"]["latents"][0]))["latent_tensor"], saved)


def test_editor_without_points_yet_is_one_error_on_the_editor(comfy, latent_file):
    # One execution error, on DragPointsEditor, not one per node that needs the points.
    name, _ = latent_file
    with pytest.raises(ExecutionFailed) as info:
        comfy.run(_prompt(name, {"pairs": []}))
    assert info.value.details["node_id"] == "5" and info.value.details["node_type"] == "DragPointsEditor"
    assert info.value.details["exception_message"].startswith("points: no drag pairs")


def test_bad_input_is_reported_and_comfyui_keeps_working(comfy, latent_file):
    name, _ = latent_file
    outside = {**POINTS, "pairs": [{"handle": [300, 90], "target": [140, 84]}]}
    with pytest.raises(ExecutionFailed) as info:
        comfy.run(_prompt(name, outside))
    assert "pair 1 handle (300, 90) lies outside the 256×192 image" in str(info.value)
    assert info.value.details["node_type"] == "DragPointsEditor"

    far_mask = _prompt(name, POINTS)
    far_mask["4"]["inputs"].update(x=200, y=0)  # the mask no longer reaches the handles
    far_mask["3"]["inputs"].update(width=40, height=40)
    with pytest.raises(ExecutionFailed, match="outside the circle around the mask's bounding box"):
        comfy.run(far_mask)

    comfy.run(_prompt(name, POINTS))  # the server is still fine


@pytest.mark.parametrize(("text", "fragment"), [
    ('{"width": 256, "height": 192, "pairs": [{"handle": [1' + "0" * 400 + ', 90], "target": [140, 84]}]}', "coordinate of 401 digits"),
    ('{"width": 256, "height": 192, "pairs": [{"handle": [1' + "0" * 5000 + ', 90], "target": [140, 84]}]}', "has a value that cannot be read"),
    ('{"width": 256, "height": 192, "pairs": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
])
def test_errors_show_a_short_type_and_our_message(comfy, latent_file, text, fragment):
    """What ComfyUI shows is "exception_type: message": the type is short and stable, never a path of the
    user's disk, and numbers too large for Python or JSON nested too deep get our message too."""
    prompt = _prompt(latent_file[0], POINTS)
    prompt["5"]["inputs"]["points"] = text
    with pytest.raises(ExecutionFailed) as info:
        comfy.run(prompt)
    assert info.value.details["exception_type"] == "drag_editing.DragInputError"
    assert info.value.details["exception_message"].startswith("points: ") and fragment in info.value.details["exception_message"]
    assert info.value.details["node_type"] == "DragPointsEditor"
