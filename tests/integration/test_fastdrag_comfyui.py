"""FastDrag end to end in a real ComfyUI, on the tiny random SD1.5 checkpoint (rand_sd15_tiny)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load

from example_workflows import workflow
from comfy_server import ExecutionFailed, cached_nodes

WORKFLOW = "Drag - FastDrag SD1.5, SD2.json"
POINTS = {"pairs": [{"handle": [50, 40], "target": [80, 44]}]}


@pytest.fixture(scope="module")
def source_image(comfy):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(comfy.dirs["input"] / "fastdrag_source.png")
    return "fastdrag_source.png"


@pytest.fixture
def prompt(tiny_checkpoint, source_image):
    """The example workflow on a 128×96 (non-square) image, saving the edited latent too."""
    p = workflow(WORKFLOW)
    p["1"]["inputs"]["ckpt_name"] = tiny_checkpoint
    p["2"]["inputs"]["image"] = source_image
    p["3"]["inputs"]["points"] = json.dumps(POINTS)
    p["12"] = {"class_type": "SaveLatent", "inputs": {"samples": ["9", 0], "filename_prefix": "fastdrag_test/edited"}}
    return p


def _latent(comfy, outputs, node="12") -> torch.Tensor:
    return load(comfy.fetch(outputs[node]["latents"][0]))["latent_tensor"]


def test_workflow_runs_and_is_deterministic(comfy, prompt):
    first = comfy.run(prompt)["outputs"]
    image = Image.open(io.BytesIO(comfy.fetch(first["11"]["images"][0])))
    assert image.size == (128, 96)
    edited = _latent(comfy, first)
    assert edited.shape == (1, 4, 12, 16)

    # Run again from scratch (different inputs force every FastDrag node to execute again: the seed
    # is unused by ddim and offloading the record must not change it).
    prompt["6"]["inputs"]["offload_kv"] = True
    prompt["9"]["inputs"]["seed"] = 1
    assert torch.equal(_latent(comfy, comfy.run(prompt)["outputs"]), edited)
    prompt["6"]["inputs"]["offload_kv"] = False
    prompt["9"]["inputs"]["seed"] = 0
    assert torch.equal(_latent(comfy, comfy.run(prompt)["outputs"]), edited)  # a second queue of the same prompt


def test_moving_a_point_reruns_only_what_depends_on_the_points(comfy, prompt):
    comfy.run(prompt)
    prompt["3"]["inputs"]["points"] = json.dumps({"pairs": [{"handle": [50, 40], "target": [70, 60]}]})
    cached = cached_nodes(comfy.run(prompt))
    # The checkpoint, the image, its VAE encode, the prompt and the inversion are reused; the editor,
    # warp, BNNI, sampling, decode and save run again.
    assert cached >= {"1", "2", "4", "5", "6"} and not cached & {"3", "7", "8", "9", "10", "11"}, cached


def test_consistency_is_really_applied(comfy, prompt):
    with_kv = _latent(comfy, comfy.run(prompt)["outputs"])
    prompt["9"]["inputs"]["consistency"] = False
    without = _latent(comfy, comfy.run(prompt)["outputs"])
    assert not torch.allclose(with_kv, without, atol=1e-3)


def test_batch_of_two_images(comfy, prompt):
    prompt["13"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["2", 0], "amount": 2}}
    prompt["3"]["inputs"]["image"] = ["13", 0]
    prompt["4"]["inputs"]["pixels"] = ["13", 0]
    outputs = comfy.run(prompt)["outputs"]
    edited = _latent(comfy, outputs)
    assert edited.shape == (2, 4, 12, 16)
    torch.testing.assert_close(edited[0], edited[1])  # the same image twice gives the same edit
    assert len(outputs["11"]["images"]) == 2


def _core_sampler(prompt, start_at_step=3, patched=True):
    """Replace FastDragKSampler by KSamplerAdvanced on the FastDragConsistency-patched model."""
    prompt["14"] = {"class_type": "FastDragConsistency", "inputs": {"model": ["1", 0], "drag_kv": ["6", 1]}}
    prompt["9"] = {"class_type": "KSamplerAdvanced", "inputs": {
        "model": ["14", 0] if patched else ["1", 0], "add_noise": "disable", "noise_seed": 0, "steps": 10, "cfg": 1.0,
        "sampler_name": "ddim", "scheduler": "ddim_uniform", "positive": ["5", 0], "negative": ["5", 0],
        "latent_image": ["8", 0], "start_at_step": start_at_step, "end_at_step": 10000, "return_with_leftover_noise": "disable",
    }}
    return prompt


def test_core_sampler_on_the_patched_model(comfy, prompt):
    reference = _latent(comfy, comfy.run(prompt)["outputs"])
    patched = _latent(comfy, comfy.run(_core_sampler(prompt))["outputs"])
    plain = _latent(comfy, comfy.run(_core_sampler(prompt, patched=False))["outputs"])
    assert not torch.allclose(patched, plain, atol=1e-3)  # the patch is applied inside a core sampler
    # Same steps and K/V; the core schedule ends at sigma 0 instead of alphas_cumprod[0].
    assert (patched - reference).abs().mean() < 0.1 * reference.abs().mean()


def test_core_sampler_with_another_schedule_is_refused(comfy, prompt):
    with pytest.raises(ExecutionFailed, match=r"steps are at timesteps \[701, 601.*recorded at timesteps \[601, 501"):
        comfy.run(_core_sampler(prompt, start_at_step=2))


def test_latent_of_another_image_is_refused(comfy, prompt):
    prompt["15"] = {"class_type": "ImageScale", "inputs": {"image": ["3", 0], "upscale_method": "nearest-exact", "width": 64, "height": 64, "crop": "disabled"}}
    prompt["16"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["15", 0], "vae": ["1", 2]}}
    prompt["9"]["inputs"]["latent"] = ["16", 0]
    with pytest.raises(ExecutionFailed, match=r"latent: 1 latent\(s\) of 8×8, but the DRAG_KV was recorded .* of 16×12"):
        comfy.run(prompt)


def test_flow_model_is_refused(comfy, prompt):
    prompt["17"] = {"class_type": "ModelSamplingSD3", "inputs": {"model": ["1", 0], "shift": 3.0}}
    prompt["6"]["inputs"]["model"] = ["17", 0]
    with pytest.raises(ExecutionFailed, match=r"model: FastDrag samples on the 1000 discrete timesteps of the SD family .* but this SD15 model samples with \w+\. .* Supported: SD15: .*SD20: .*SDXL: "):
        comfy.run(prompt)


def test_cfg_without_negative_is_refused(comfy, prompt):
    prompt["9"]["inputs"]["cfg"] = 3.0
    with pytest.raises(ExecutionFailed, match="negative: cfg is 3.0"):
        comfy.run(prompt)
    prompt["9"]["inputs"]["negative"] = ["5", 0]
    assert _latent(comfy, comfy.run(prompt)["outputs"]).shape == (1, 4, 12, 16)


def test_empty_prompt_from_clip_equals_the_connected_empty_prompt(comfy, prompt):
    reference = _latent(comfy, comfy.run(prompt)["outputs"])
    del prompt["6"]["inputs"]["positive"]
    prompt["6"]["inputs"]["clip"] = ["1", 1]
    assert torch.equal(_latent(comfy, comfy.run(prompt)["outputs"]), reference)
    del prompt["6"]["inputs"]["clip"]
    with pytest.raises(ExecutionFailed, match="positive: FastDragInvert needs a text conditioning"):
        comfy.run(prompt)
