"""Run the pack inside a real ComfyUI in this process (for scripts run with ComfyUI's Python): ComfyUI imported
from its folder with command-line flags set before its model management reads them, and the pack loaded under
a name of its own (never as ``nodes``, which is ComfyUI's)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACK_ROOT = Path(__file__).resolve().parents[2]
PACK = "drag_editing_in_process"


def boot(comfy_root: str | Path, **flags) -> ModuleType:
    """Import ComfyUI from ``comfy_root`` on the CPU with ``flags`` set on its parsed arguments (e.g.
    ``fp16_unet=True``), then the pack; returns the pack's package (its modules are ``PACK.drag...``,
    ``PACK.nodes...``)."""
    sys.path.insert(0, str(comfy_root))
    import comfy.cli_args

    comfy.cli_args.args.cpu = True
    for name, value in flags.items():
        setattr(comfy.cli_args.args, name, value)
    import comfy.model_management  # noqa: F401  (reads the flags)

    spec = importlib.util.spec_from_file_location(PACK, PACK_ROOT / "__init__.py", submodule_search_locations=[str(PACK_ROOT)])
    pack = importlib.util.module_from_spec(spec)
    sys.modules[PACK] = pack
    spec.loader.exec_module(pack)
    return pack
