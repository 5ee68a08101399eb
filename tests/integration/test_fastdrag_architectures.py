"""FastDrag on SDXL and SD2.x in a real ComfyUI, and the refusal of the architectures it does not run on.

The models are tiny random-weight checkpoints in each architecture's block layout (make_rand_checkpoint.py),
which ComfyUI's detection names SDXL, SD20 with v-prediction and SD20 with ε-prediction; the images are
non-square.
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

POINTS = {"pairs": [{"handle": [60, 40], "target": [90, 50]}]}
WORKFLOW_OF = {"sdxl": "Drag - FastDrag SDXL.json", "sd20_v": "Drag - FastDrag SD1.5, SD2.json", "sd20_eps": "Drag - FastDrag SD1.5, SD2.json"}


@pytest.fixture(scope="module")
def source_image(comfy):
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 255, (96, 160, 3), dtype=np.uint8)).save(comfy.dirs["input"] / "fastdrag_arch.png")
    return "fastdrag_arch.png"


def _prompt(name: str, checkpoint: str, image: str) -> dict:
    """The example workflow for ``name`` on a 160×96 image, saving the edited latent too."""
    p = workflow(WORKFLOW_OF[name])
    p["1"]["inputs"]["ckpt_name"] = checkpoint
    p["2"]["inputs"]["image"] = image
    p["3"]["inputs"]["points"] = json.dumps(POINTS)
    p["12"] = {"class_type": "SaveLatent", "inputs": {"samples": ["9", 0], "filename_prefix": f"fastdrag_{name}/edited"}}
    return p


def _edited(comfy, prompt) -> torch.Tensor:
    outputs = comfy.run(prompt)["outputs"]
    assert len(outputs["11"]["images"]) == 1
    return load(comfy.fetch(outputs["12"]["latents"][0]))["latent_tensor"]


@pytest.mark.parametrize("name", ["sdxl", "sd20_v", "sd20_eps"])
def test_workflow_runs_is_deterministic_and_uses_the_record(comfy, architecture, source_image, name):
    prompt = _prompt(name, architecture(name), source_image)
    prompt["9"]["inputs"]["sampler_name"] = "euler_ancestral"  # a stochastic sampler, so the seed matters
    edited = _edited(comfy, prompt)
    assert edited.shape == (1, 4, 12, 20) and bool(torch.isfinite(edited).all())

    prompt["6"]["inputs"]["offload_kv"] = True  # runs every FastDrag node again; the same seed gives the same edit
    assert torch.equal(_edited(comfy, prompt), edited)
    prompt["9"]["inputs"]["seed"] = 1
    assert not torch.equal(_edited(comfy, prompt), edited)
    prompt["9"]["inputs"]["seed"] = 0
    prompt["9"]["inputs"]["consistency"] = False
    assert not torch.allclose(_edited(comfy, prompt), edited, atol=1e-3)


def test_sdxl_record_covers_every_decoder_layer_and_clip_encodes_the_empty_prompt(comfy, architecture, source_image):
    prompt = _prompt("sdxl", architecture("sdxl"), source_image)
    edited = _edited(comfy, prompt)
    # 36 layers: output blocks 0-2 × 10 at 3×5, 3-5 × 2 at 6×10 (a 20×12 latent), all 320 wide in the tiny
    # layout; 7 steps in fp32 on the CPU: 7·(30·3·5 + 6·6·10)·320·4 B = 6.9 MiB.
    assert "FastDragInvert: K/V record of 36 layers × 7 steps, 6.9 MiB on cpu" in comfy.log()
    # Without positive, the connected SDXL CLIP encodes the empty prompt (with its pooled embedding).
    del prompt["6"]["inputs"]["positive"]
    prompt["6"]["inputs"]["clip"] = ["1", 1]
    assert torch.equal(_edited(comfy, prompt), edited)


def test_sdxl_refuses_a_text_encoding_of_another_model(comfy, architecture, tiny_checkpoint, source_image):
    prompt = _prompt("sdxl", architecture("sdxl"), source_image)
    prompt["13"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": tiny_checkpoint}}
    prompt["5"]["inputs"]["clip"] = ["13", 1]  # SD1.5's CLIP-L
    with pytest.raises(ExecutionFailed, match="positive: its text embeddings are 768 wide, but this SDXL model reads 2048-wide ones"):
        comfy.run(prompt)


@pytest.mark.parametrize(("name", "family"), [("sd3", r"SD3 \(SD3\)"), ("cascade_c", r"Stable_Cascade_C \(StableCascade_C\)")])
def test_unsupported_architecture_is_refused_with_the_list(comfy, architecture, tiny_checkpoint, source_image, name, family):
    prompt = _prompt("sd20_eps", tiny_checkpoint, source_image)  # SD1.5's CLIP and VAE give the inputs
    prompt["13"] = {"class_type": "UNETLoader", "inputs": {"unet_name": architecture(name), "weight_dtype": "default"}}
    prompt["6"]["inputs"]["model"] = ["13", 0]
    with pytest.raises(ExecutionFailed, match=rf"model: FastDrag runs on the UNets of the SD family \(SD15: .*SD20: .*SDXL: .*\), but this model is {family}"):
        comfy.run(prompt)
