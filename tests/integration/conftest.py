"""Fixtures for tests against a real ComfyUI (found through COMFYUI_PATH; skipped without it)."""

from __future__ import annotations

import pytest

from comfy_server import ComfyServer, comfyui_path


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def comfy_root():
    root = comfyui_path()
    if root is None:
        pytest.skip(
            "no ComfyUI: set COMFYUI_PATH to a ComfyUI folder (with main.py) to run the integration tests; "
            "shared/tools/comfy-up.sh sets one up at /opt/comfy/ComfyUI"
        )
    return root


@pytest.fixture(scope="session")
def comfy(comfy_root, tmp_path_factory):
    server = ComfyServer.start(comfy_root, tmp_path_factory.mktemp("comfyui"))
    yield server
    server.stop()


TINY_CHECKPOINT = "rand_sd15_tiny.safetensors"


@pytest.fixture(scope="session")
def tiny_checkpoint(comfy_root):
    """A tiny random-weight SD1.5 checkpoint in the ComfyUI checkpoints folder (shared/tools/make_rand_sd15.py --tiny)."""
    if not (comfy_root / "models" / "checkpoints" / TINY_CHECKPOINT).is_file():
        pytest.skip(
            f"no {TINY_CHECKPOINT} in {comfy_root}/models/checkpoints; make it with "
            "shared/tools/make_rand_sd15.py --tiny (comfy-up.sh does)"
        )
    return TINY_CHECKPOINT
