"""LightningDrag in a real ComfyUI: the example workflows on a tiny random SD1.5 inpainting checkpoint
and random release files in the official formats (fixture ``test_models``)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load

from example_workflows import workflow
from comfy_server import ComfyServer, ExecutionFailed, cached_nodes
from conftest import CLIP_VISION_H, LCM_LORA, LIGHTNING_RELEASE

POINTS = {"pairs": [{"handle": [40, 40], "target": [70, 44]}, {"handle": [90, 60], "target": [90, 60]}]}


@pytest.fixture(scope="module")
def source_image(comfy):
    """A 128×96 RGBA image whose transparent rectangle is the editable region (LoadImage: mask = 1 - alpha)."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (96, 128, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    pixels[16:80, 16:112, 3] = 0
    Image.fromarray(pixels, "RGBA").save(comfy.dirs["input"] / "lightningdrag_source.png")
    return "lightningdrag_source.png"


def _workflow(name, checkpoint, image):
    p = workflow(name)
    p["1"]["inputs"]["ckpt_name"] = checkpoint
    p["2"]["inputs"]["image"] = image
    p["5"]["inputs"]["release"] = LIGHTNING_RELEASE
    p["8"]["inputs"]["clip_name"] = CLIP_VISION_H
    for node in p.values():
        if node["class_type"] == "DragPointsEditor" and node["inputs"]["image"] == ["30", 0]:
            node["inputs"]["points"] = json.dumps(POINTS)
            node["inputs"]["mask"] = ["2", 1]
        if node["class_type"] == "DragKSampler":
            node["inputs"]["steps"] = min(node["inputs"]["steps"], 4)
    p["90"] = {"class_type": "SaveLatent", "inputs": {"samples": ["10", 0], "filename_prefix": "lightningdrag_test/edited"}}
    return p


@pytest.fixture
def ddim(tiny_inpaint_checkpoint, source_image):
    return _workflow("Drag - LightningDrag DDIM.json", tiny_inpaint_checkpoint, source_image)


def _latent(comfy, outputs, node="90") -> torch.Tensor:
    return load(comfy.fetch(outputs[node]["latents"][0]))["latent_tensor"]


def test_ddim_workflow_shows_four_candidates_of_a_non_square_image_and_is_deterministic(comfy, ddim):
    first = comfy.run(ddim)["outputs"]
    images = first["12"]["images"]  # the batch preview on the right of the editor
    assert len(images) == 4 and all(Image.open(io.BytesIO(comfy.fetch(i))).size == (128, 96) for i in images)
    edited = _latent(comfy, first)
    assert edited.shape == (4, 4, 12, 16) and bool(torch.isfinite(edited).all())
    assert all(not torch.allclose(edited[i], edited[j], atol=1e-3) for i in range(4) for j in range(i))  # each its own noise
    ddim["10"]["inputs"]["candidates"] = 1  # forces a fresh run; candidate 0 has the same noise
    alone = _latent(comfy, comfy.run(ddim)["outputs"])
    assert alone.shape == (1, 4, 12, 16)
    torch.testing.assert_close(alone, edited[:1], rtol=1e-3, atol=1e-3)  # batched kernels round differently
    ddim["10"]["inputs"]["seed"] = 7
    assert not torch.allclose(_latent(comfy, comfy.run(ddim)["outputs"]), alone, atol=1e-3)


def test_moving_a_point_reruns_only_what_depends_on_the_points(comfy, ddim):
    comfy.run(ddim)
    moved = json.loads(ddim["3"]["inputs"]["points"])
    moved["pairs"][0]["target"] = [20, 70]
    ddim["3"]["inputs"]["points"] = json.dumps(moved)
    cached = cached_nodes(comfy.run(ddim))
    # The encoders (VAE, appearance, CLIP vision) and the loaders are reused; the editor, PointEmbed,
    # DragKSampler and what follows run again.
    assert cached >= {"1", "2", "4", "5", "6", "8", "9"} and not cached & {"3", "7", "10", "11", "12", "90"}, cached


def test_points_and_guidance_really_steer_the_sampler(comfy, ddim):
    reference = _latent(comfy, comfy.run(ddim)["outputs"])
    moved = json.loads(ddim["3"]["inputs"]["points"])
    moved["pairs"][0]["target"] = [20, 70]
    ddim["3"]["inputs"]["points"] = json.dumps(moved)
    assert not torch.allclose(_latent(comfy, comfy.run(ddim)["outputs"]), reference, atol=1e-3)
    ddim["3"]["inputs"]["points"] = json.dumps(POINTS)
    ddim["10"]["inputs"]["point_guidance"] = 1.0  # the conditional pass only (the official code crashes here)
    assert not torch.allclose(_latent(comfy, comfy.run(ddim)["outputs"]), reference, atol=1e-3)


def test_lcm_workflow_runs_with_the_lora_and_lcm_sampler(comfy, tiny_inpaint_checkpoint, source_image):
    prompt = _workflow("Drag - LightningDrag LCM.json", tiny_inpaint_checkpoint, source_image)
    assert prompt["13"]["inputs"]["lora_name"] == LCM_LORA
    with_lora = _latent(comfy, comfy.run(prompt)["outputs"])
    assert with_lora.shape == (4, 4, 12, 16)
    prompt["13"]["inputs"]["strength_model"] = 0.0
    assert not torch.allclose(_latent(comfy, comfy.run(prompt)["outputs"]), with_lora, atol=1e-3)


def test_sequential_workflow_goes_on_from_the_candidate_picked(comfy, tiny_inpaint_checkpoint, source_image):
    prompt = _workflow("Drag twice - LightningDrag.json", tiny_inpaint_checkpoint, source_image)
    prompt["13"]["inputs"]["points"] = json.dumps({"pairs": [{"handle": [70, 44], "target": [96, 50]}]})
    prompt["91"] = {"class_type": "SaveLatent", "inputs": {"samples": ["18", 0], "filename_prefix": "lightningdrag_test/step2"}}
    entry = comfy.run(prompt)
    for node in ("12", "20"):
        images = entry["outputs"][node]["images"]
        assert len(images) == 4 and Image.open(io.BytesIO(comfy.fetch(images[0]))).size == (128, 96)
    from_first = _latent(comfy, entry["outputs"], "91")
    # ImageFromBatch's index is the official demo's "Use Output N": only step 2 runs again.
    prompt["21"]["inputs"]["batch_index"] = 2
    entry = comfy.run(prompt)
    step1 = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
    assert cached_nodes(entry) >= step1 and not cached_nodes(entry) & {"21", "14", "18", "20", "91"}, cached_nodes(entry)
    assert not torch.allclose(_latent(comfy, entry["outputs"], "91"), from_first, atol=1e-3)


def test_a_plain_sd15_model_is_refused(comfy, ddim, tiny_checkpoint):
    ddim["1"]["inputs"]["ckpt_name"] = tiny_checkpoint
    with pytest.raises(ExecutionFailed, match=r"needs an SD1.5 inpainting model \(9 input channels.*this model has 4"):
        comfy.run(ddim)


def test_an_sd2_model_is_refused(comfy, ddim, architecture, tiny_inpaint_checkpoint):
    sd2 = architecture("sd20_eps")
    ddim["1"]["inputs"]["ckpt_name"] = sd2
    # Its CLIP reaches AppearanceEncode first, whose encoder is an SD1.5 UNet.
    with pytest.raises(ExecutionFailed, match=r"clip: its text embeddings are 1024 wide, but this SD15 model reads 768-wide ones\. Connect the CLIP of the SD1.5 inpainting"):
        comfy.run(ddim)
    ddim["13"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": tiny_inpaint_checkpoint}}
    ddim["6"]["inputs"]["clip"] = ["13", 1]
    with pytest.raises(ExecutionFailed, match=r"model: LightningDrag's release was trained for SD1.5 inpainting UNets, but this model is SD20"):
        comfy.run(ddim)


def test_points_of_another_image_are_refused(comfy, ddim):
    ddim["7"]["inputs"]["points"] = ["91", 1]
    ddim["91"] = {"class_type": "DragPointsEditor", "inputs": {
        "image": ["92", 0], "points": json.dumps({"pairs": [{"handle": [10, 10], "target": [20, 20]}]})}}
    ddim["92"] = {"class_type": "ImageScale", "inputs": {"image": ["2", 0], "upscale_method": "nearest-exact", "width": 64, "height": 64, "crop": "disabled"}}
    with pytest.raises(ExecutionFailed, match=r"point_embeds: made for a 64×64 image, but the appearance was encoded from a 128×96 image"):
        comfy.run(ddim)


def test_an_empty_mask_is_refused(comfy, ddim):
    ddim["93"] = {"class_type": "SolidMask", "inputs": {"value": 0.0, "width": 128, "height": 96}}
    ddim["3"]["inputs"]["mask"] = ["93", 0]
    with pytest.raises(ExecutionFailed, match="mask: it is empty, so nothing may change"):
        comfy.run(ddim)


def test_missing_weights_name_the_file_the_folder_and_the_source(comfy, ddim):
    ddim["5"]["inputs"]["release"] = "not-downloaded"
    with pytest.raises(ExecutionFailed) as info:
        comfy.run(ddim)
    details = json.dumps(info.value.details)
    assert "appearance_encoder/diffusion_pytorch_model.safetensors" in details and "not-downloaded" in details
    assert "lightning_drag" in details and "huggingface.co/LightningDrag/lightning-drag-sd15" in details
    ddim["5"]["inputs"]["release"] = LIGHTNING_RELEASE
    ddim["5"]["inputs"]["ip_adapter"] = "ip-adapter_sd15_missing.bin"
    with pytest.raises(ExecutionFailed) as info:
        comfy.run(ddim)
    details = json.dumps(info.value.details)
    assert "ip-adapter_sd15_missing.bin not found" in details and "h94/IP-Adapter" in details and "ipadapter" in details


def test_every_missing_file_is_named_at_once_under_its_input(comfy_root, tiny_inpaint_checkpoint, tmp_path):
    """On a ComfyUI without any LightningDrag file (a server of its own with empty model folders), one
    validation message names the release's three parts, the IP-Adapter and the CLIP-ViT-H encoder, each
    with its folder and address, under each of LoadLightningDrag's inputs."""
    if any(f.suffix in {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".sft"} for f in (comfy_root / "models" / "clip_vision").glob("*")):
        pytest.skip(f"{comfy_root}/models/clip_vision holds an image encoder")
    server = ComfyServer.start(comfy_root, tmp_path / "bare", tmp_path / "no_models")
    try:
        prompt = workflow("Drag - LightningDrag DDIM.json")
        prompt["1"]["inputs"]["ckpt_name"] = tiny_inpaint_checkpoint
        with pytest.raises(ExecutionFailed) as info:
            server.run(prompt)
    finally:
        server.stop()
    errors = info.value.details["node_errors"]["5"]["errors"]
    assert sorted(e["extra_info"]["input_name"] for e in errors) == ["ip_adapter", "release"]
    for error in errors:
        lines = error["details"].split(" - ", 1)[1].splitlines()
        assert [line.split(":")[0] for line in lines] == ["release", "ip_adapter", "clip_vision (CLIPVisionLoader)"]
        assert all(part in lines[0] for part in ("appearance_encoder/diffusion_pytorch_model.safetensors", "lightning-drag-sd15-attn.bin", "models/lightning_drag", "huggingface.co/LightningDrag/lightning-drag-sd15"))
        assert all(part in lines[1] for part in ("ip-adapter_sd15.safetensors not found", "models/ipadapter", "huggingface.co/h94/IP-Adapter"))
        assert all(part in lines[2] for part in ("CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors", "models/clip_vision", "image_encoder/model.safetensors"))
