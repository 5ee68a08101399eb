"""Loading the LightningDrag release into ComfyUI: model folders, and models under ComfyUI's model
management (device, dtype policy, offloading).

* the appearance encoder becomes a ComfyUI SD1.5 UNet (4 input channels) through ComfyUI's
  diffusers key map; its 24 absent keys (an output head and the tail of its last transformer block
  that nothing reads) are zero-filled, so no weight is left uninitialised;
* the point embedding network and the attention weights are built, as ComfyUI builds its own models,
  with the ``comfy.ops`` layers it picks for their storage and compute dtypes (the UNet's policy:
  ``--fp16-unet``, ``--bf16-unet``, fp8 storage with a manual cast, ...), so ComfyUI can load them
  partially and their layers cast their weights where they compute; they live in ModelPatchers, and
  the attention weights ride along with the sampling model (the patches name them in ``models()``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import comfy.model_management
import comfy.model_patcher
import comfy.ops
import comfy.sd
import comfy.utils
import folder_paths
import torch

from ..drag.errors import DragInputError, shown
from ..drag.lightningdrag import release
from ..drag.lightningdrag.attention import DragAttentionWeights
from ..drag.lightningdrag.point_net import PointEmbeddingNet

RELEASE_FOLDER = "lightning_drag"
IP_ADAPTER_FOLDER = "ipadapter"  # the folder IPAdapter_plus uses, so users keep one copy


def register_folders() -> None:
    """``models/lightning_drag`` (release folders) and ``models/ipadapter`` (if no other pack did)."""
    for name in (RELEASE_FOLDER, IP_ADAPTER_FOLDER):
        if name not in folder_paths.folder_names_and_paths:
            folder_paths.folder_names_and_paths[name] = ([os.path.join(folder_paths.models_dir, name)], folder_paths.supported_pt_extensions)


def release_names() -> list[str]:
    """Subfolders of ``models/lightning_drag`` that hold a release (its ``lightning-drag-sd15-attn.bin``)."""
    names = set()
    for root in folder_paths.get_folder_paths(RELEASE_FOLDER):
        if os.path.isdir(root):
            names.update(entry for entry in os.listdir(root) if os.path.isfile(os.path.join(root, entry, release.ATTENTION_FILE)))
    return sorted(names)


def ip_adapter_names() -> list[str]:
    return folder_paths.get_filename_list(IP_ADAPTER_FOLDER)


def _release_where(name: str) -> str:
    folders = " or ".join(folder_paths.get_folder_paths(RELEASE_FOLDER))
    return (
        f"The release folder '{name}' belongs in {folders} with the layout published at {release.RELEASE_URL} "
        f"({release.APPEARANCE_FILE}, {release.POINT_EMBEDDING_FILE}, {release.ATTENTION_FILE}); download that "
        "repository into it unmodified."
    )


def _ip_where() -> str:
    folders = " or ".join(folder_paths.get_folder_paths(IP_ADAPTER_FOLDER))
    return (
        f"Put IP-Adapter sd15 in {folders}: ip-adapter_sd15.safetensors from {release.IP_ADAPTER_URL} "
        "(or ip-adapter_sd15.bin, its pickled twin)."
    )


def _release_root(name: str) -> Path:
    roots = [Path(root) / name for root in folder_paths.get_folder_paths(RELEASE_FOLDER)]
    return next((r for r in roots if r.is_dir()), roots[0])


NAME_MAX = 255
"""The longest folder name looked up: longer ones are refused before the file system sees them (it
would raise ENAMETOOLONG)."""


def missing_files(name: str, ip_adapter: str) -> str | None:
    """Every file LightningDrag needs that is not there, one line per input (release ``name``'s parts,
    the IP-Adapter file ``ip_adapter``, and CLIPVisionLoader's CLIP-ViT-H when ``models/clip_vision``
    has no file at all), each with where to put it and where to get it; None when all are there (their
    contents are checked when loading)."""
    lines = []
    if not name or len(name) > NAME_MAX or Path(name).name != name or name in (".", ".."):
        lines.append(f"release: '{shown(name)}' is not a folder name in models/lightning_drag. {_release_where('lightning-drag-sd15')}")
    else:
        root = _release_root(name)
        missing = [f for f in (release.APPEARANCE_FILE, release.POINT_EMBEDDING_FILE, release.ATTENTION_FILE) if not (root / f).is_file()]
        if missing:
            lines.append(f"release: {', '.join(missing)} not found in {root}. {_release_where(name)}")
    if folder_paths.get_full_path(IP_ADAPTER_FOLDER, ip_adapter) is None:
        lines.append(f"ip_adapter: {shown(ip_adapter)} not found. {_ip_where()}")
    if not folder_paths.get_filename_list("clip_vision"):
        folders = " or ".join(folder_paths.get_folder_paths("clip_vision"))
        lines.append(
            f"clip_vision (CLIPVisionLoader): no image encoder in {folders}. Put {release.CLIP_VISION_FILE} there, "
            f"saved from {release.CLIP_VISION_URL}."
        )
    return "\n".join(lines) or None


@dataclass(eq=False)
class LightningDragModels:
    """LIGHTNING_DRAG: the loaded release. ``widths``: the block widths of the UNet it was made for."""

    appearance: comfy.model_patcher.ModelPatcher
    points: comfy.model_patcher.ModelPatcher
    attention: comfy.model_patcher.ModelPatcher
    widths: tuple[int, int, int, int]
    name: str


def _sd15_unet_config(widths: tuple[int, int, int, int]) -> dict:
    """ComfyUI's description of an SD1.5-layout UNet with block widths ``widths`` and 4 input channels."""
    return {
        "num_res_blocks": [2, 2, 2, 2], "channel_mult": [w // widths[0] for w in widths], "model_channels": widths[0],
        "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0], "transformer_depth_output": [1] * 9 + [0] * 3,
        "transformer_depth_middle": 1, "in_channels": 4,
    }


def _appearance_patcher(state: dict, widths: tuple[int, int, int, int], path: Path, where: str):
    full = release.appearance_shapes(widths)
    dtype = next(iter(state.values())).dtype
    state = dict(state) | {k: torch.zeros(full[k], dtype=dtype) for k in release.APPEARANCE_ABSENT_KEYS}
    to_comfy = comfy.utils.unet_to_diffusers(_sd15_unet_config(widths))
    comfy_state = {to_comfy[k]: v for k, v in state.items()}
    if len(comfy_state) != len(state):
        raise DragInputError(f"release: {path}: some keys have no SD1.5 UNet counterpart. {where}")
    patcher = comfy.sd.load_diffusion_model_state_dict(comfy_state)
    if patcher is None or type(patcher.model.model_config).__name__ != "SD15":
        raise DragInputError(f"release: {path}: ComfyUI does not read it as an SD1.5 UNet. {where}")
    return patcher


SUPPORTED_DTYPES = [torch.float16, torch.bfloat16, torch.float32]
"""Compute dtypes the pack's modules run in (SD1.5's); storage may also be fp8 when ComfyUI is asked for it."""


def _module_patcher(build: Callable[..., torch.nn.Module], state: dict[str, torch.Tensor]) -> comfy.model_patcher.ModelPatcher:
    """``build(dtype=, device=, operations=, compute_dtype=)`` with ``state`` loaded, in a ModelPatcher, stored
    and computed in the dtypes ComfyUI's UNet policy gives weights of this size on this device (as it
    decides for a ControlNet)."""
    mm = comfy.model_management
    load_device, offload_device = mm.get_torch_device(), mm.unet_offload_device()
    params = sum(v.numel() for v in state.values())
    storage = mm.unet_dtype(model_params=params, supported_dtypes=SUPPORTED_DTYPES)
    cast = mm.unet_manual_cast(storage, load_device, SUPPORTED_DTYPES)
    operations = comfy.ops.pick_operations(storage, cast, load_device=load_device)
    module = build(dtype=storage, device=offload_device, operations=operations, compute_dtype=cast or storage)
    module.load_state_dict({k: v.to(storage) for k, v in state.items()})
    # ComfyUI >= 0.18 swaps this class for its dynamic-VRAM patcher on NVIDIA; 0.3.x has only ModelPatcher.
    patcher_class = getattr(comfy.model_patcher, "CoreModelPatcher", comfy.model_patcher.ModelPatcher)
    return patcher_class(module.eval(), load_device=load_device, offload_device=offload_device)


def load_release(name: str, ip_adapter: str) -> LightningDragModels:
    """Read and check every file of release ``name`` and IP-Adapter file ``ip_adapter``, and build the models."""
    where = _release_where(name)
    root = _release_root(name)
    appearance_state, widths = release.read_appearance_encoder(root / release.APPEARANCE_FILE, where)
    point_state = release.read_point_embedding(root / release.POINT_EMBEDDING_FILE, where)
    point_attention = release.read_point_attention(root / release.ATTENTION_FILE, widths, where)
    ip_path = folder_paths.get_full_path(IP_ADAPTER_FOLDER, ip_adapter)
    if ip_path is None:
        raise DragInputError(f"ip_adapter: {shown(ip_adapter)}: file not found. {_ip_where()}")
    ip_projection, ip_layers = release.read_ip_adapter(Path(ip_path), widths, _ip_where())

    attention_state = DragAttentionWeights.state_of(point_attention, ip_projection, ip_layers)
    models = LightningDragModels(
        appearance=_appearance_patcher(appearance_state, widths, root / release.APPEARANCE_FILE, where),
        points=_module_patcher(PointEmbeddingNet, point_state),
        attention=_module_patcher(lambda **like: DragAttentionWeights(widths, **like), attention_state),
        widths=widths, name=name,
    )
    logging.info(f"LoadLightningDrag: {name} (block widths {widths}) and {ip_adapter}")
    return models
