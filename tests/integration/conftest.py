"""Fixtures for tests against a real ComfyUI (found through COMFYUI_PATH; skipped without it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from browser_env import frontend_roots, frontend_version
from comfy_server import ComfyServer, comfyui_path, comfyui_python

TEST_MODELS_VERSION = "v1"
DEVTOOLS = Path(__file__).resolve().parents[2] / "devtools"
LCM_LORA = "lcm-lora-sdv1-5.safetensors"
LIGHTNING_RELEASE = "rand-lightning-drag-tiny"
LIGHTNING_RELEASE_FULL = "rand-lightning-drag-full"
IP_ADAPTER_FULL = "ip-adapter_sd15_full.bin"
IP_ADAPTER_SAFETENSORS = "ip-adapter_sd15.safetensors"
CLIP_VISION_H = "rand_clip_vision_h.safetensors"
CONTROLNET = "rand_controlnet_sd15_tiny.safetensors"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def comfy_root():
    root = comfyui_path()
    if root is None:
        pytest.skip(
            "no ComfyUI: set COMFYUI_PATH to a ComfyUI folder (the one with main.py) to run the integration tests "
            "(DEVELOPING.md, Tests)"
        )
    return root


@pytest.fixture(scope="session")
def test_models(comfy_root, request) -> Path:
    """Random-weight model files the workflows load, in the official formats, made once and kept in
    pytest's cache: a LightningDrag release for the tiny SD1.5 layout (block widths 320),
    ``ip-adapter_sd15.bin`` (and its ``.safetensors`` twin) and an LCM-LoRA-shaped LoRA for it, a
    CLIP-ViT-H-14 image encoder (about 2 GB in all, 30 s), and a ControlNet for the tiny layout (0.1 GB, 5 s)."""
    folder = Path(request.config.cache.mkdir(f"drag-editing-test-models-{TEST_MODELS_VERSION}"))
    done = folder / "complete"
    if not done.exists():
        import lightningdrag_files as files

        files.write_release(folder / "lightning_drag" / LIGHTNING_RELEASE, (320,) * 4)
        files.write_ip_adapter(folder / "ipadapter" / "ip-adapter_sd15.bin", (320,) * 4)
        files.write_lcm_like_lora(folder / "loras" / LCM_LORA, (320,) * 4)
        (folder / "clip_vision").mkdir(exist_ok=True)
        script = DEVTOOLS / "make_rand_clip_vision_h.py"
        subprocess.run([comfyui_python(comfy_root), str(script), str(comfy_root), str(folder / "clip_vision" / CLIP_VISION_H)], check=True)
        done.touch()
    twin = folder / "ipadapter" / IP_ADAPTER_SAFETENSORS  # what the example workflows name
    if not twin.exists():
        import lightningdrag_files as files

        files.write_ip_adapter(twin, (320,) * 4)
    controlnet = folder / "controlnet" / CONTROLNET
    if not controlnet.exists():
        controlnet.parent.mkdir(exist_ok=True)
        script = DEVTOOLS / "make_rand_controlnet.py"
        subprocess.run([comfyui_python(comfy_root), str(script), str(comfy_root), str(controlnet)], check=True)
    return folder


ARCHITECTURES = {
    "sd15": "checkpoints/drag_test_sd15_tiny.safetensors",
    "sd15_inpaint": "checkpoints/drag_test_sd15_tiny_inpaint.safetensors",
    "sd15_full": "checkpoints/drag_test_sd15.safetensors",
    "sd15_inpaint_full": "checkpoints/drag_test_sd15_inpaint.safetensors",
    "sdxl": "checkpoints/rand_sdxl_tiny.safetensors",
    "sd20_v": "checkpoints/rand_sd20_v_tiny.safetensors",
    "sd20_eps": "checkpoints/rand_sd20_eps_tiny.safetensors",
    "sd3": "diffusion_models/rand_sd3_tiny.safetensors",
    "cascade_c": "diffusion_models/rand_cascade_c_lite_detect_only.safetensors",
}


@pytest.fixture(scope="session")
def architecture(comfy_root, test_models):
    """``architecture(name)``: the file name (in its ComfyUI model folder) of a random-weight model
    (make_rand_checkpoint.py: tiny SD1.5 and SD1.5 inpainting checkpoints, 0.64 GB each; full-size ones,
    2.1 GB each; SDXL and SD2.x v / ε checkpoints, 1.1-2.4 GB; 15-60 s each; an SD3 and a Stable Cascade
    UNet, a few MB), made on first use into the test models' cache."""

    def get(name: str) -> str:
        path = test_models / ARCHITECTURES[name]
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            script = DEVTOOLS / "make_rand_checkpoint.py"
            subprocess.run([comfyui_python(comfy_root), str(script), str(comfy_root), name, str(path)], check=True)
        return path.name

    return get


@pytest.fixture(scope="session")
def full_size_lightning(test_models) -> tuple[str, str]:
    """A LightningDrag release and IP-Adapter file for the full SD1.5 block widths (for the full-size random
    checkpoints), made on first use into the same cache (about 2 GB, 1-2 min): (release, ip_adapter)."""
    import lightningdrag_files as files
    import torch

    done = test_models / "full_size_complete"
    if not done.exists():
        files.write_release(test_models / "lightning_drag" / LIGHTNING_RELEASE_FULL, (320, 640, 1280, 1280), appearance_dtype=torch.float16)
        files.write_ip_adapter(test_models / "ipadapter" / IP_ADAPTER_FULL, (320, 640, 1280, 1280))
        done.touch()
    return LIGHTNING_RELEASE_FULL, IP_ADAPTER_FULL


@pytest.fixture(scope="session")
def comfy(comfy_root, test_models, tmp_path_factory):
    server = ComfyServer.start(comfy_root, tmp_path_factory.mktemp("comfyui"), test_models, test_pack=True)
    yield server
    server.stop()


@pytest.fixture(scope="session", params=frontend_roots(), ids=lambda root: "installed-frontend" if root is None else f"frontend-{root.parents[1].name}")
def frontend(request, comfy, comfy_root, test_models, tmp_path_factory):
    """(server, frontend version) for each frontend the browser tests run on (browser_env.py): the session's
    ComfyUI, or one serving the frontend at ``request.param``."""
    if request.param is None:
        yield comfy, frontend_version(None, comfy_root)
        return
    if not (request.param / "index.html").is_file():
        pytest.fail(f"COMFYUI_FRONTEND_ROOTS names {request.param}, which holds no frontend (index.html)")
    server = ComfyServer.start(comfy_root, tmp_path_factory.mktemp("comfyui_frontend"), test_models, front_end_root=request.param)
    yield server, frontend_version(request.param, comfy_root)
    server.stop()


@pytest.fixture(scope="session")
def tiny_checkpoint(architecture):
    """A tiny random-weight SD1.5 checkpoint (SD1.5's block layout, 320 channels at every level)."""
    return architecture("sd15")


@pytest.fixture(scope="session")
def tiny_inpaint_checkpoint(architecture):
    """The same as an SD1.5 inpainting checkpoint (9 input channels)."""
    return architecture("sd15_inpaint")


@pytest.fixture(scope="session")
def full_checkpoint(architecture):
    """A full-size random-weight SD1.5 checkpoint, for patches that act only on SD1.5's widths."""
    return architecture("sd15_full")


@pytest.fixture(scope="session")
def full_inpaint_checkpoint(architecture):
    """A full-size random-weight SD1.5 inpainting checkpoint."""
    return architecture("sd15_inpaint_full")
