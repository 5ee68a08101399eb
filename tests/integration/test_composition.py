"""Other nodes' model patches on the same MODEL as the drag samplers, in a real ComfyUI (through /prompt).

For each patch node a user puts before our samplers (core PerturbedAttentionGuidance, SelfAttentionGuidance,
FreeU_V2, LoraLoaderModelOnly, a ControlNet through ControlNetApplyAdvanced, and an attn2 replacement
written the way IPAdapter_plus writes one, from tests/integration/test_pack), the tests show that its
effect is still in the edit (the result differs from the graph without it) and that it composes as
chaining by hand gives:

* FastDrag: the patch before FastDragConsistency gives exactly what the patch applied to the
  FastDragConsistency model gives (ComfyUI then chains both itself), and in that reverse order our
  edit still runs (it differs from the patch alone);
* LightningDrag: tests/integration/test_composition_by_hand.py compares DragKSampler with the same
  patch chained by hand, in-process.

FreeU_V2 scales the channels of SD1.5's 640- and 1280-wide decoder blocks only, so its tests use the
full-size random checkpoints (the tiny ones are 320 wide everywhere).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load

from example_workflows import workflow
from comfy_server import ExecutionFailed
from conftest import CLIP_VISION_H, CONTROLNET, LCM_LORA, LIGHTNING_RELEASE


PATCHES = {
    "PerturbedAttentionGuidance": {"scale": 3.0},
    "SelfAttentionGuidance": {"scale": 0.8, "blur_sigma": 2.0},
    "FreeU_V2": {"b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2},
    "LoraLoaderModelOnly": {"lora_name": LCM_LORA, "strength_model": 1.0},
    "DragTestImagePromptStandIn": {"weight": 1.0},
}
MODEL_PATCHES = list(PATCHES)
ALL = MODEL_PATCHES + ["ControlNetApplyAdvanced"]


@pytest.fixture(scope="module")
def image(comfy):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (96, 128, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    pixels[16:80, 16:112, 3] = 0  # LoadImage's mask (1 - alpha): the editable region
    Image.fromarray(pixels, "RGBA").save(comfy.dirs["input"] / "composition_source.png")
    return "composition_source.png"


@pytest.fixture
def checkpoints(request):
    """(plain, inpainting) checkpoint names for the patch ``request.param``: full size for FreeU_V2."""
    if request.param == "FreeU_V2":
        return request.getfixturevalue("full_checkpoint"), request.getfixturevalue("full_inpaint_checkpoint")
    return request.getfixturevalue("tiny_checkpoint"), request.getfixturevalue("tiny_inpaint_checkpoint")


def _patch(prompt: dict, name: str, model: list, node: str = "50") -> list:
    """Add patch node ``name`` on ``model`` to ``prompt``; returns its MODEL output."""
    prompt[node] = {"class_type": name, "inputs": {"model": model, **PATCHES[name]}}
    return [node, 0]


def _control(prompt: dict, conditioning: list) -> tuple[list, list]:
    """A ControlNet (random weights, hint = the source image) applied to ``conditioning``; returns (positive, negative)."""
    prompt["60"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": CONTROLNET}}
    prompt["61"] = {"class_type": "ControlNetApplyAdvanced", "inputs": {
        "positive": conditioning, "negative": conditioning, "control_net": ["60", 0], "image": ["2", 0],
        "strength": 1.0, "start_percent": 0.0, "end_percent": 1.0,
    }}
    return ["61", 0], ["61", 1]


def _latent(comfy, prompt: dict, node: str) -> torch.Tensor:
    prompt["90"] = {"class_type": "SaveLatent", "inputs": {"samples": [node, 0], "filename_prefix": "composition/edit"}}
    outputs = comfy.run(prompt)["outputs"]
    return load(comfy.fetch(outputs["90"]["latents"][0]))["latent_tensor"]


# ---- FastDrag ----------------------------------------------------------------------------------


def _fastdrag(checkpoint: str, image: str) -> dict:
    prompt = workflow("Drag - FastDrag SD1.5, SD2.json")
    prompt["1"]["inputs"]["ckpt_name"] = checkpoint
    prompt["2"]["inputs"]["image"] = image
    prompt["3"]["inputs"]["points"] = json.dumps({"pairs": [{"handle": [50, 40], "target": [80, 44]}]})
    del prompt["10"], prompt["11"]  # the latent is compared; no decode needed
    return prompt


def _core_sampler(prompt: dict, model: list, positive: list | None = None) -> None:
    """Sample with KSamplerAdvanced on ``model`` on FastDrag's record's schedule (node 9)."""
    positive = positive or ["5", 0]
    prompt["9"] = {"class_type": "KSamplerAdvanced", "inputs": {
        "model": model, "add_noise": "disable", "noise_seed": 0, "steps": 10, "cfg": 1.0, "sampler_name": "ddim",
        "scheduler": "ddim_uniform", "positive": positive, "negative": positive, "latent_image": ["8", 0],
        "start_at_step": 3, "end_at_step": 10000, "return_with_leftover_noise": "disable",
    }}


@pytest.mark.parametrize("checkpoints", ALL, indirect=True)
def test_fastdrag_keeps_the_other_patch_and_composes_in_either_order(comfy, checkpoints, image, request):
    name = request.node.callspec.params["checkpoints"]
    plain = _fastdrag(checkpoints[0], image)
    without = _latent(comfy, plain, "9")

    with_patch = _fastdrag(checkpoints[0], image)
    if name == "ControlNetApplyAdvanced":
        with_patch["9"]["inputs"]["positive"], with_patch["9"]["inputs"]["negative"] = _control(with_patch, ["5", 0])
    else:
        with_patch["9"]["inputs"]["model"] = _patch(with_patch, name, ["1", 0])
    edited = _latent(comfy, with_patch, "9")
    assert edited.shape == without.shape and bool(torch.isfinite(edited).all())
    assert (edited - without).abs().max() > 1e-3, f"{name}'s effect is missing from FastDragKSampler's edit"

    if name == "ControlNetApplyAdvanced":  # a conditioning, not a model patch: no order to swap
        return
    # The patch before FastDragConsistency, and FastDragConsistency's model given to the patch node.
    before = _fastdrag(checkpoints[0], image)
    before["70"] = {"class_type": "FastDragConsistency", "inputs": {"model": _patch(before, name, ["1", 0]), "drag_kv": ["6", 1]}}
    _core_sampler(before, ["70", 0])
    after = _fastdrag(checkpoints[0], image)
    after["70"] = {"class_type": "FastDragConsistency", "inputs": {"model": ["1", 0], "drag_kv": ["6", 1]}}
    _core_sampler(after, _patch(after, name, ["70", 0]))
    alone = _fastdrag(checkpoints[0], image)
    _core_sampler(alone, _patch(alone, name, ["1", 0]))
    first, second, only_patch = (_latent(comfy, p, "9") for p in (before, after, alone))
    torch.testing.assert_close(first, second, rtol=0, atol=1e-5)
    assert (second - only_patch).abs().max() > 1e-3, "FastDrag's consistency is missing after the other patch node"


def test_two_fastdrag_records_on_one_model_are_refused(comfy, tiny_checkpoint, image):
    prompt = _fastdrag(tiny_checkpoint, image)
    prompt["70"] = {"class_type": "FastDragConsistency", "inputs": {"model": ["1", 0], "drag_kv": ["6", 1]}}
    prompt["9"]["inputs"]["model"] = ["70", 0]
    with pytest.raises(ExecutionFailed) as info:
        _latent(comfy, prompt, "9")
    assert "model: it already reuses the keys and values of a FastDrag inversion" in str(info.value)
    prompt["9"]["inputs"]["consistency"] = False  # the fix the message names
    assert _latent(comfy, prompt, "9").shape == (1, 4, 12, 16)


# ---- LightningDrag ----------------------------------------------------------------------------


def _lightning(checkpoint: str, image: str, release: str = LIGHTNING_RELEASE, ip_adapter: str = "ip-adapter_sd15.bin") -> dict:
    prompt = workflow("Drag - LightningDrag DDIM.json")
    prompt["1"]["inputs"]["ckpt_name"] = checkpoint
    prompt["2"]["inputs"]["image"] = image
    prompt["3"]["inputs"]["points"] = json.dumps({"pairs": [{"handle": [40, 40], "target": [70, 44]}]})
    prompt["3"]["inputs"]["mask"] = ["2", 1]
    prompt["5"]["inputs"].update(release=release, ip_adapter=ip_adapter)
    prompt["8"]["inputs"]["clip_name"] = CLIP_VISION_H
    prompt["10"]["inputs"].update(steps=4, candidates=1)
    del prompt["11"], prompt["12"]
    return prompt


@pytest.fixture
def lightning_files(request):
    """(release, ip_adapter) for the patch ``request.param``: full size for FreeU_V2."""
    if request.param == "FreeU_V2":
        return request.getfixturevalue("full_size_lightning")
    return LIGHTNING_RELEASE, "ip-adapter_sd15.bin"


@pytest.mark.parametrize(("checkpoints", "lightning_files"), [(n, n) for n in ALL if n != "SelfAttentionGuidance"], indirect=True)
def test_lightningdrag_keeps_the_other_patch(comfy, checkpoints, lightning_files, image, request):
    name = request.node.callspec.params["checkpoints"]
    without = _latent(comfy, _lightning(checkpoints[1], image, *lightning_files), "10")
    prompt = _lightning(checkpoints[1], image, *lightning_files)
    if name == "ControlNetApplyAdvanced":
        prompt["55"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}}
        prompt["10"]["inputs"]["positive"] = _control(prompt, ["55", 0])[0]
    else:
        prompt["10"]["inputs"]["model"] = _patch(prompt, name, ["1", 0])
    edited = _latent(comfy, prompt, "10")
    assert edited.shape == without.shape and bool(torch.isfinite(edited).all())
    assert (edited - without).abs().max() > 1e-3, f"{name}'s effect is missing from DragKSampler's edit"


def test_lightningdrag_refuses_self_attention_guidance_by_name(comfy, tiny_inpaint_checkpoint, image):
    prompt = _lightning(tiny_inpaint_checkpoint, image)
    prompt["10"]["inputs"]["model"] = _patch(prompt, "SelfAttentionGuidance", ["1", 0])
    with pytest.raises(ExecutionFailed) as info:
        _latent(comfy, prompt, "10")
    message = str(info.value)
    assert message.startswith("model: SelfAttentionGuidance replaced the self-attention of block ('middle', 0)")
    assert "attn_and_record (from comfy_extras.nodes_sag)" in message and "Remove SelfAttentionGuidance" in message
    assert info.value.details["exception_type"] == "drag_editing.DragInputError"


def test_lightningdrag_runs_its_point_guidance_through_another_cfg_function(comfy, tiny_inpaint_checkpoint, image):
    """RescaleCFG's CFG function gets the decayed point guidance as its scale: with multiplier 0 it is plain
    CFG (the edit without it), with 0.7 it rescales."""
    without = _latent(comfy, _lightning(tiny_inpaint_checkpoint, image), "10")
    results = {}
    for multiplier in (0.0, 0.7):
        prompt = _lightning(tiny_inpaint_checkpoint, image)
        prompt["51"] = {"class_type": "RescaleCFG", "inputs": {"model": ["1", 0], "multiplier": multiplier}}
        prompt["10"]["inputs"]["model"] = ["51", 0]
        results[multiplier] = _latent(comfy, prompt, "10")
    torch.testing.assert_close(results[0.0], without, rtol=1e-3, atol=1e-3)
    assert (results[0.7] - without).abs().max() > 1e-3
