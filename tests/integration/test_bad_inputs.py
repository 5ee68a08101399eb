"""Bad inputs through ``/prompt`` on a real ComfyUI: each gets the pack's message (input, value, fix), never a raw
error, and the prompts that can be refused before anything runs are refused at validation."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from comfy_server import ExecutionFailed
from conftest import LIGHTNING_RELEASE
from example_workflows import checkpoint_family, prepared, write_image

FASTDRAG = "Drag - FastDrag SD1.5, SD2.json"
LIGHTNINGDRAG = "Drag - LightningDrag DDIM.json"
PACK_NODES = ("DragImageScale", "DragPointsEditor", "FastDragInvert", "FastDragWarp", "BNNI", "FastDragKSampler", "FastDragConsistency",
              "LoadLightningDrag", "AppearanceEncode", "PointEmbed", "DragKSampler")
FLOAT_INPUTS = {  # every FLOAT widget of the pack, with the example workflow that has the node
    ("FastDragInvert", "inversion_strength"): FASTDRAG,
    ("FastDragKSampler", "cfg"): FASTDRAG,
    ("DragKSampler", "point_guidance"): LIGHTNINGDRAG,
}


def node_of(prompt: dict, class_type: str) -> str:
    return next(k for k, v in prompt.items() if v["class_type"] == class_type)


@pytest.fixture(scope="module")
def workflow(comfy, architecture):
    """``workflow(name)``: an example workflow made runnable on the test models (example_workflows.prepared)."""
    write_image(comfy.dirs["input"])
    return lambda name: prepared(name, architecture(checkpoint_family(name)), max_steps=2)


def after(prompt: dict, node_id: str) -> dict:
    """``prompt`` without the outputs that do not depend on ``node_id``: ComfyUI runs every output whose nodes
    validate, so a refused node fails the whole prompt only when every output needs it."""
    links = {k: {v[0] for v in n["inputs"].values() if isinstance(v, list)} for k, n in prompt.items()}
    def ancestors(k: str) -> set[str]:
        return {k}.union(*(ancestors(a) for a in links[k]))
    sinks = [k for k in prompt if not any(k in v for v in links.values()) and node_id in ancestors(k)]
    keep = set().union(*(ancestors(k) for k in sinks))
    return {k: v for k, v in prompt.items() if k in keep}


def _validation_errors(comfy, prompt: dict) -> dict:
    """``/prompt``'s node_errors for a prompt that must fail validation."""
    with pytest.raises(ExecutionFailed, match="validation failed") as info:
        comfy.run(prompt)
    return info.value.details["node_errors"]


def _execution_error(comfy, prompt: dict) -> dict:
    with pytest.raises(ExecutionFailed) as info:
        comfy.run(prompt)
    assert "node_errors" not in info.value.details, info.value.details
    assert info.value.details["exception_type"] == "drag_editing.DragInputError", info.value.details
    return info.value.details


def test_every_float_input_of_the_pack_is_listed_here(comfy):
    info = comfy.get("/object_info")
    floats = {
        (name, key) for name in PACK_NODES for group in ("required", "optional")
        for key, spec in info[name]["input"].get(group, {}).items() if spec[0] == "FLOAT"
    }
    assert floats == set(FLOAT_INPUTS)


@pytest.mark.parametrize("value, shown", [(math.nan, "NaN is not a number"), (math.inf, "inf is outside the range"),
                                          (-math.inf, "-inf is outside the range"), (1e9, "1e+09 is outside the range")])
@pytest.mark.parametrize("node, name", list(FLOAT_INPUTS), ids=lambda v: v if isinstance(v, str) else None)
def test_nan_and_infinite_floats_are_refused_before_anything_runs(comfy, workflow, node, name, value, shown):
    prompt = workflow(FLOAT_INPUTS[node, name])
    node_id = node_of(prompt, node)
    prompt[node_id]["inputs"][name] = value
    errors = _validation_errors(comfy, after(prompt, node_id))
    assert list(errors) == [node_id], errors
    detail = errors[node_id]["errors"][0]["details"]
    assert f"{name}: {shown}" in detail and "Set a value from" in detail, detail


def test_a_nan_that_arrives_through_a_link_is_refused_when_the_node_runs(comfy, workflow):
    prompt = workflow(FASTDRAG)
    prompt["nan"] = {"class_type": "PrimitiveFloat", "inputs": {"value": math.nan}}
    prompt[node_of(prompt, "FastDragInvert")]["inputs"]["inversion_strength"] = ["nan", 0]
    details = _execution_error(comfy, prompt)
    assert details["node_type"] == "FastDragInvert"
    assert details["exception_message"].startswith("inversion_strength: NaN is not a number. Set a value from 0.01 to 1")


@pytest.fixture
def release_with(test_models):
    """``release_with(file, target)``: a release folder in models/lightning_drag that is the test release with
    ``file`` replaced by a link to ``target``; removed after the test."""
    made = []

    def make(file: str, target) -> str:
        name = f"bad-release-{len(made)}"
        root = test_models / "lightning_drag" / name
        shutil.copytree(test_models / "lightning_drag" / LIGHTNING_RELEASE, root, symlinks=True)
        made.append(root)
        (root / file).unlink()
        (root / file).symlink_to(target)
        return name

    yield make
    for root in made:
        shutil.rmtree(root)


@pytest.mark.parametrize("file", ["point_embedding/point_embedding.pt", "lightning-drag-sd15-attn.bin"])
def test_a_system_text_file_as_a_release_file_is_refused_with_what_was_found(comfy, workflow, release_with, file, tmp_path):
    text = tmp_path / "passwd"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n" * 30)
    prompt = workflow(LIGHTNINGDRAG)
    prompt[node_of(prompt, "LoadLightningDrag")]["inputs"]["release"] = release_with(file, text)
    message = _execution_error(comfy, prompt)["exception_message"]
    assert message.startswith("release: ") and file.split("/")[-1] in message and "a text file beginning 'root:x:0:0" in message
    assert "Download the file again" in message and "huggingface.co/LightningDrag" in message


def test_a_text_file_as_the_ip_adapter_is_refused_with_what_was_found(comfy, workflow, test_models):
    bad = test_models / "ipadapter" / "not-an-ip-adapter.bin"
    bad.write_text("just some notes\n" * 30)
    try:
        prompt = workflow(LIGHTNINGDRAG)
        prompt[node_of(prompt, "LoadLightningDrag")]["inputs"]["ip_adapter"] = bad.name
        message = _execution_error(comfy, prompt)["exception_message"]
    finally:
        bad.unlink()
    assert message.startswith("ip_adapter: ") and "a text file beginning 'just some notes" in message and "h94/IP-Adapter" in message


@pytest.mark.parametrize("field", ["release", "ip_adapter"])
def test_a_name_of_megabytes_gets_a_short_message(comfy, workflow, field):
    prompt = workflow(LIGHTNINGDRAG)
    prompt[node_of(prompt, "LoadLightningDrag")]["inputs"][field] = "x" * 5_000_000
    errors = _validation_errors(comfy, prompt)
    assert len(json.dumps(errors)) < 20_000
    detail = errors[node_of(prompt, "LoadLightningDrag")]["errors"][0]["details"]
    start = {"release": "release: 'xxxx", "ip_adapter": "ip_adapter: xxxx"}[field]
    assert start in detail and "xxxx… (5,000,000 characters)" in detail, detail[:500]


def test_a_soft_mask_into_dragksampler_says_it_is_binarised(comfy, workflow):
    prompt = workflow(LIGHTNINGDRAG)
    prompt["soft"] = {"class_type": "SolidMask", "inputs": {"value": 0.4, "width": 128, "height": 96}}
    prompt[node_of(prompt, "DragKSampler")]["inputs"]["mask"] = ["soft", 0]
    details = _execution_error(comfy, prompt)
    assert details["node_type"] == "DragKSampler"
    assert details["exception_message"].startswith("mask: its largest value is 0.40. LightningDrag binarises the mask at 0.5")


def _uncached(comfy, prompt: dict, name: str) -> dict:
    """``prompt`` on a copy of the test image named ``name``: nothing downstream of LoadImage is in ComfyUI's
    cache, so an execution error's ``executed`` list tells which nodes ran before it."""
    shutil.copy(comfy.dirs["input"] / write_image(comfy.dirs["input"]), comfy.dirs["input"] / name)
    prompt[node_of(prompt, "LoadImage")]["inputs"]["image"] = name
    return prompt


def _refused_at_the_editor(comfy, prompt: dict) -> str:
    """The editor's message for ``prompt``, checked to come before any encode or inversion."""
    details = _execution_error(comfy, prompt)
    assert details["node_type"] == "DragPointsEditor", details
    ran = {prompt[n]["class_type"] for n in details["executed"]}
    assert not ran & {"VAEEncode", "FastDragInvert"}, ran
    return details["exception_message"]


def test_fastdrag_without_a_mask_and_a_handle_in_the_corner_gets_advice_that_fits(comfy, workflow):
    prompt = _uncached(comfy, workflow(FASTDRAG), "corner_handle.png")
    del prompt[node_of(prompt, "FastDragWarp")]["inputs"]["mask"]
    editor = prompt[node_of(prompt, "DragPointsEditor")]["inputs"]
    editor["points"] = json.dumps({"pairs": [{"handle": [126, 94], "target": [110, 80]}]})
    editor.pop("mask", None)
    message = _refused_at_the_editor(comfy, prompt)
    assert message.startswith("points: the handle of pair 1") and "No mask is connected" in message and "Extend the mask" not in message
    assert "(FastDragWarp, node 7, takes these points" in message


def test_a_handle_outside_the_masks_circle_is_refused_at_the_editor(comfy, workflow):
    prompt = _uncached(comfy, workflow(FASTDRAG), "outside_circle.png")
    prompt[node_of(prompt, "DragPointsEditor")]["inputs"]["points"] = json.dumps({"pairs": [{"handle": [2, 2], "target": [30, 30]}]})
    message = _refused_at_the_editor(comfy, prompt)
    assert message.startswith("mask: the handle of pair 1") and "Extend the mask so that it covers every handle." in message


@pytest.mark.parametrize("name", [FASTDRAG, LIGHTNINGDRAG])
def test_a_scale_in_front_of_the_editor_alone_is_refused_before_the_encode(comfy, workflow, name):
    """The natural first try at scaling: an ImageScale between the shipped scale and the editor only."""
    prompt = _uncached(comfy, workflow(name), f"scaled_for_the_editor_alone_{len(name)}.png")
    editor = prompt[node_of(prompt, "DragPointsEditor")]["inputs"]
    prompt["31"] = {"class_type": "ImageScale", "inputs": {"image": editor["image"], "upscale_method": "nearest-exact",
                                                           "width": 64, "height": 48, "crop": "disabled"}}
    editor.update(image=["31", 0], points=json.dumps({"pairs": [{"handle": [20, 20], "target": [30, 22]}]}))
    editor.pop("mask")
    message = _refused_at_the_editor(comfy, prompt)
    assert message.startswith("image: the points are placed on the image that comes through ImageScale (node 31), but VAEEncode (node 4) "
                              "takes its pixels from before it (DragImageScale (node 30))"), message


def test_fastdrag_refuses_an_inpainting_checkpoint(comfy, architecture):
    write_image(comfy.dirs["input"])
    prompt = prepared(FASTDRAG, architecture("sd15_inpaint"), max_steps=2)
    details = _execution_error(comfy, prompt)
    assert details["node_type"] == "FastDragInvert"
    assert details["exception_message"].startswith("model: this is an inpainting SD15 UNet")


def test_the_editor_does_not_need_a_writable_temp_folder(comfy, workflow):
    """The editor's canvas copies go to ComfyUI's temp folder; when it cannot be written (here: a file where the
    folder should be, which stops root too), the edit still runs."""
    temp = comfy.dirs["temp"] / "temp"
    aside = temp.with_name("temp-aside")
    if temp.exists():
        temp.rename(aside)
    temp.write_text("not a folder")
    try:
        prompt = workflow(FASTDRAG)
        editor = prompt[node_of(prompt, "DragPointsEditor")]["inputs"]
        editor["points"] = json.dumps({"pairs": [{"handle": [41, 41], "target": [69, 45]}]})  # not cached: it runs
        outputs = comfy.run(prompt)["outputs"]
    finally:
        temp.unlink()
        if aside.exists():
            aside.rename(temp)
    assert outputs[f"save_{node_of(prompt, 'BNNI')}"]["latents"]
    assert node_of(prompt, "DragPointsEditor") not in outputs  # no canvas copy, no crash
    assert "could not write the canvas's copy of the image" in comfy.log()
