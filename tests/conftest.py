"""Test setup: load the pack under a unique package name, without ComfyUI.

ComfyUI imports a node pack as a package named after its folder, and has a top-level module called
``nodes`` of its own; so the pack is never imported through ``sys.path`` here. Its method code
(``drag/``) imports without ComfyUI; the node modules are only exercised inside a real ComfyUI
(``tests/integration``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

PACK_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "drag_editing_pack_under_test"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _load_pack() -> None:
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        PACKAGE, PACK_ROOT / "__init__.py", submodule_search_locations=[str(PACK_ROOT)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)


_load_pack()


@pytest.fixture
def fastdrag_case():
    """Load one of the official FastDrag reference cases by name (tests/fixtures/fastdrag)."""
    from safetensors.torch import load_file

    return lambda name: load_file(FIXTURES / "fastdrag" / f"{name}.safetensors")
