"""ComfyUI and this pack in one process, for the scripts that tests and benchmarks run with ComfyUI's Python.

The pack is imported under one private name, :data:`PACK` (``drag_editing_dev``), and never through
``sys.path``: its ``nodes`` folder would shadow ComfyUI's ``nodes`` module. Its method code (``PACK.drag``)
imports without ComfyUI; its node modules (``PACK.nodes``) need ComfyUI booted first (:func:`boot`).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence

PACK_ROOT = Path(__file__).resolve().parents[1]
PACK = "drag_editing_dev"


def load_pack() -> ModuleType:
    """The pack, imported once as :data:`PACK`."""
    if PACK not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACK, PACK_ROOT / "__init__.py", submodule_search_locations=[str(PACK_ROOT)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACK] = module
        spec.loader.exec_module(module)
    return sys.modules[PACK]


def boot(comfy_root: str | Path, flags: Sequence[str] = (), device: str = "cpu") -> bool:
    """Import ComfyUI from ``comfy_root`` as its main.py starts it with the command-line ``flags`` (e.g.
    ``--fp16-unet``, ``--novram``; ``--cpu`` added for ``device`` "cpu"), dynamic VRAM included where main.py
    would turn it on (ComfyUI 0.18 and later on NVIDIA, with comfy-aimdo), then the pack (:func:`load_pack`).
    Call it before anything imports ComfyUI, with the script's own arguments already read (it replaces
    ``sys.argv``, as ComfyUI parses it). Returns whether dynamic VRAM is on."""
    sys.path.insert(0, str(comfy_root))
    import comfy.options

    comfy.options.enable_args_parsing()
    sys.argv = ["main.py", *flags, *(["--cpu"] if device == "cpu" else [])]
    from comfy import cli_args

    if device == "cuda":
        import cuda_malloc  # noqa: F401  (main.py picks the CUDA allocator this way before torch starts)
    dynamic = _start_dynamic_vram(cli_args)
    import comfy.model_management  # noqa: F401  (reads the flags)

    if dynamic:
        dynamic = _enable_dynamic_vram()
    load_pack()
    return dynamic


def boot_from_env(device: str, flags: Sequence[str] = ()) -> bool:
    """:func:`boot` the ComfyUI that ``COMFYUI_PATH`` names, from its folder as main.py runs (the benchmarks'
    command lines); exits with a message when it is not set."""
    comfy_path = os.environ.get("COMFYUI_PATH")
    if not comfy_path:
        sys.exit("set COMFYUI_PATH to a ComfyUI folder")
    os.chdir(comfy_path)
    return boot(comfy_path, flags, device)


def _start_dynamic_vram(cli_args) -> bool:
    """main.py's first step of dynamic VRAM (ComfyUI 0.18+): start comfy-aimdo before CUDA is used."""
    enables = getattr(cli_args, "enables_dynamic_vram", None)
    if enables is None or not enables():
        return False
    import comfy_aimdo.control

    args = cli_args.args
    headroom = None if args.reserve_vram is None else int(args.reserve_vram * 1024**3)
    try:
        comfy_aimdo.control.init(simple_vram_headroom=headroom, nvml_pressure=not args.disable_nvml_pressure)
    except TypeError:  # older comfy-aimdo protocols, as main.py tries them
        comfy_aimdo.control.init()
    return True


def _enable_dynamic_vram() -> bool:
    """main.py's second step: give comfy-aimdo the devices and make ComfyUI's model patcher the dynamic one."""
    import comfy.memory_management
    import comfy.model_management
    import comfy.model_patcher
    import comfy_aimdo.control

    if not comfy.model_management.is_nvidia():
        return False
    args = comfy.model_management.args
    devices = comfy.model_management.get_all_torch_devices()
    try:
        ready = comfy_aimdo.control.init_devices((d.index, int(args.vram_headroom * 1024**3)) for d in devices)
    except TypeError:
        ready = comfy_aimdo.control.init_devices(d.index for d in devices)
    if ready:
        comfy.model_patcher.CoreModelPatcher = comfy.model_patcher.ModelPatcherDynamic
        comfy.memory_management.aimdo_enabled = True
    return bool(ready)
