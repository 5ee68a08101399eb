"""Test setup: the pack loaded as ``drag_editing_dev`` without ComfyUI (devtools/in_process.py), and the devtools
folder (the random model writers, ComfyUI in-process) importable.

ComfyUI imports a node pack as a package named after its folder, and has a top-level module called
``nodes`` of its own; so the pack is never imported through ``sys.path`` here. Its method code
(``drag/``) imports without ComfyUI; the node modules are only exercised inside a real ComfyUI
(``tests/integration``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PACK_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(PACK_ROOT / "devtools"))  # the tools tests and benchmarks share (devtools/README.md)

from in_process import load_pack  # noqa: E402

load_pack()


@pytest.fixture
def fastdrag_case():
    """Load one of the official FastDrag reference cases by name (tests/fixtures/fastdrag)."""
    from safetensors.torch import load_file

    return lambda name: load_file(FIXTURES / "fastdrag" / f"{name}.safetensors")
