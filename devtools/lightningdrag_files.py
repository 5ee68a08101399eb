"""Random-weight LightningDrag release files in the exact official formats, for the tests and benchmarks.

``write_release(folder, widths)`` writes the release folder layout (appearance encoder safetensors
without its 24 absent keys, point embedding ``.pt``, fp16 attention ``.bin`` as an OrderedDict);
``write_ip_adapter(path, widths)`` an ``ip-adapter_sd15.bin``. ``widths`` are the UNet's block widths:
(320, 640, 1280, 1280) for SD1.5, (320,) * 4 for ``make_rand_sd15.py --tiny``, smaller for unit tests.
"""

from __future__ import annotations

import argparse
from collections import OrderedDict
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from in_process import load_pack
from safetensors.torch import save_file

load_pack()
from drag_editing_dev.drag.lightningdrag import release  # noqa: E402
from drag_editing_dev.drag.lightningdrag.layout import TRANSFORMER_BLOCKS  # noqa: E402
from drag_editing_dev.drag.lightningdrag.point_net import PointEmbeddingNet  # noqa: E402


def appearance_unet(widths, seed: int = 0) -> UNet2DConditionModel:
    torch.manual_seed(seed)
    config = release.appearance_config(widths)
    if min(widths) < 32:
        config["norm_num_groups"] = min(widths)
    return UNet2DConditionModel(**config).eval()


def write_release(folder: Path, widths, seed: int = 0, appearance_dtype: torch.dtype = torch.float32) -> Path:
    """The release folder with random weights (the appearance encoder stored as ``appearance_dtype``); returns ``folder``."""
    (folder / "appearance_encoder").mkdir(parents=True, exist_ok=True)
    (folder / "point_embedding").mkdir(parents=True, exist_ok=True)
    unet = appearance_unet(widths, seed)
    state = {k: v.to(appearance_dtype).contiguous() for k, v in unet.state_dict().items() if k not in release.APPEARANCE_ABSENT_KEYS}
    save_file(state, str(folder / release.APPEARANCE_FILE))
    torch.manual_seed(seed + 1)
    net = PointEmbeddingNet()
    for conv in net.modules():
        if isinstance(conv, torch.nn.Conv2d):
            torch.nn.init.normal_(conv.weight, std=(2.0 / conv.weight[0].numel()) ** 0.5)
    torch.save(net.state_dict(), folder / release.POINT_EMBEDDING_FILE)
    torch.save(point_attention_state(widths, seed + 2), folder / release.ATTENTION_FILE)
    return folder


def point_attention_state(widths, seed: int = 0) -> OrderedDict:
    """``lightning-drag-sd15-attn.bin``'s content: fp16, keys ``{2k}.norm.weight/bias``, ``{2k}.proj.weight``."""
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for block in TRANSFORMER_BLOCKS:
        i, e, w = block.processor_index, block.embed_dim, widths[block.level]
        state[f"{i}.norm.weight"] = (1 + 0.1 * torch.randn(e, generator=g)).half()
        state[f"{i}.norm.bias"] = (0.1 * torch.randn(e, generator=g)).half()
        state[f"{i}.proj.weight"] = (torch.randn(w, e, generator=g) / e**0.5).half()
    return state


def write_ip_adapter(path: Path, widths, seed: int = 0) -> Path:
    """IP-Adapter sd15 for a UNet of block ``widths``: the published pickled ``.bin`` (``{"image_proj": …,
    "ip_adapter": …}``) or, for a ``.safetensors`` path, its flat twin. The same seed gives the same tensors."""
    g = torch.Generator().manual_seed(seed)
    image_proj = {
        "proj.weight": torch.randn(3072, 1024, generator=g) / 32, "proj.bias": torch.zeros(3072),
        "norm.weight": torch.ones(768), "norm.bias": torch.zeros(768),
    }
    ip_adapter = {}
    for block in TRANSFORMER_BLOCKS:
        for name in ("to_k_ip", "to_v_ip"):
            ip_adapter[f"{block.processor_index + 1}.{name}.weight"] = (torch.randn(widths[block.level], 768, generator=g) / 768**0.5).half()
    path.parent.mkdir(parents=True, exist_ok=True)
    nested = {"image_proj": {k: v.half() for k, v in image_proj.items()}, "ip_adapter": ip_adapter}
    if path.suffix == ".safetensors":  # the published twin: the same tensors under "image_proj." / "ip_adapter."
        from safetensors.torch import save_file

        save_file({f"{part}.{k}": v.contiguous() for part, tensors in nested.items() for k, v in tensors.items()}, path)
    else:
        torch.save(nested, path)
    return path


def write_lcm_like_lora(path: Path, widths, rank: int = 4, seed: int = 0) -> Path:
    """A random LoRA in the kohya format the LCM-LoRA release uses, on every self-attention query of an
    SD1.5-layout UNet with block widths ``widths`` (so loading it really changes the model)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for block in TRANSFORMER_BLOCKS:
        name = "lora_unet_" + f"{block.diffusers}.transformer_blocks.0.attn1.to_q".replace(".", "_")
        width = widths[block.level]
        state[f"{name}.lora_down.weight"] = (torch.randn(rank, width, generator=g) / width**0.5).half()
        state[f"{name}.lora_up.weight"] = (torch.randn(width, rank, generator=g) / rank**0.5).half()
        state[f"{name}.alpha"] = torch.tensor(float(rank)).half()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="Write random LightningDrag files into a models folder (for benchmarks).")
    parser.add_argument("models", type=Path, help="writes MODELS/lightning_drag/rand-lightning-drag and MODELS/ipadapter/ip-adapter_sd15.bin")
    parser.add_argument("--widths", type=int, nargs=4, default=[320, 640, 1280, 1280], help="UNet block widths (tiny checkpoints: 320 320 320 320)")
    parser.add_argument("--fp16", action="store_true", help="store the appearance encoder in fp16 (half the size; the release's is fp32)")
    args = parser.parse_args()
    dtype = torch.float16 if args.fp16 else torch.float32
    write_release(args.models / "lightning_drag" / "rand-lightning-drag", tuple(args.widths), appearance_dtype=dtype)
    write_ip_adapter(args.models / "ipadapter" / "ip-adapter_sd15.bin", tuple(args.widths))


if __name__ == "__main__":
    main()
