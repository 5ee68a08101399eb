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
