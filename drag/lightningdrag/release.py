"""Readers of LightningDrag's weight files, exactly as published, with errors that say what to fix.

The release (https://huggingface.co/LightningDrag/lightning-drag-sd15) is a folder::

    appearance_encoder/diffusion_pytorch_model.safetensors   diffusers SD1.5 UNet, 4 input channels,
                                                             without the 24 keys of its unused output
    point_embedding/point_embedding.pt                        PointEmbeddingNet state dict (13 convs)
    lightning-drag-sd15-attn.bin                              per self-attention LayerNorm + projection

plus IP-Adapter's ``ip-adapter_sd15.bin`` (h94/IP-Adapter). Pickled files are read with
``torch.load(weights_only=True)``: tensors and plain containers only, never arbitrary objects.

Each reader checks every key and shape and returns plain tensors on the CPU (the files' dtypes).
``where`` (in the messages) tells the user where the file belongs and where to get it.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import Tensor

from ..errors import DragInputError
from .layout import TRANSFORMER_BLOCKS, TransformerBlock
from .point_net import PointEmbeddingNet

RELEASE_URL = "https://huggingface.co/LightningDrag/lightning-drag-sd15"
IP_ADAPTER_URL = "https://huggingface.co/h94/IP-Adapter/resolve/main/models/ip-adapter_sd15.safetensors"
CLIP_VISION_FILE = "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors"
CLIP_VISION_URL = "https://huggingface.co/h94/IP-Adapter/resolve/main/models/image_encoder/model.safetensors"

APPEARANCE_FILE = "appearance_encoder/diffusion_pytorch_model.safetensors"
POINT_EMBEDDING_FILE = "point_embedding/point_embedding.pt"
ATTENTION_FILE = "lightning-drag-sd15-attn.bin"

_STUBBED = "up_blocks.3.attentions.2."
APPEARANCE_ABSENT_KEYS = tuple(
    ["conv_norm_out.weight", "conv_norm_out.bias", "conv_out.weight", "conv_out.bias"]
    + [_STUBBED + "transformer_blocks.0." + k for k in (
        "attn1.to_q.weight", "attn1.to_k.weight", "attn1.to_v.weight", "attn1.to_out.0.weight", "attn1.to_out.0.bias",
        "norm2.weight", "norm2.bias",
        "attn2.to_q.weight", "attn2.to_k.weight", "attn2.to_v.weight", "attn2.to_out.0.weight", "attn2.to_out.0.bias",
        "norm3.weight", "norm3.bias",
        "ff.net.0.proj.weight", "ff.net.0.proj.bias", "ff.net.2.weight", "ff.net.2.bias",
    )]
    + [_STUBBED + "proj_out.weight", _STUBBED + "proj_out.bias"]
)
"""The keys the official appearance encoder file lacks: its output head and the parts of its last
transformer block after ``norm1`` (the official model stubs them; only that ``norm1`` is used)."""

CONTEXT_DIM = 768  # SD1.5 text tokens; also IP-Adapter sd15's image tokens
IP_TOKENS = 4
CLIP_VISION_DIM = 1024  # ViT-H/14 image_embeds


def _fail(path: Path | str, problem: str, where: str, name: str = "release") -> DragInputError:
    """The error for a weight file of input ``name`` (``release`` or ``ip_adapter``)."""
    return DragInputError(f"{name}: {path}: {problem} {where}")


def _found(path: Path) -> str:
    """What a file that is not the expected weights looks like, for the message: its size and kind."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as error:
        return f"a file that cannot be read ({error.strerror})"
    if head.startswith(b"PK\x03\x04"):
        kind = "a zip archive (the PyTorch format) that is damaged or holds something else"
    elif head.startswith(b"\x80"):
        kind = "a pickle that is damaged or holds something else"
    elif head and all(32 <= c < 127 or c in b"\t\r\n" for c in head):
        kind = f"a text file beginning {head[:24].decode()!r}"
    else:
        kind = "neither a PyTorch file nor a pickle"
    return f"{size:,} bytes, {kind}"


def _reason(error: Exception) -> str:
    """The line of a torch.load error that says what was wrong (torch's weights-only refusal opens with
    advice to load the file unsafely, which is not ours to give)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    refusal = [line for line in lines if "WeightsUnpickler error" in line]
    if isinstance(error, pickle.UnpicklingError) and refusal:
        return "only tensors and plain containers are loaded; " + refusal[0][:160]
    return f"{type(error).__name__}: {(lines[0] if lines else '')[:160]}"


def _read_pickle(path: Path, where: str, name: str = "release") -> dict:
    if not path.is_file():
        raise _fail(path, "file not found.", where, name)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001  a damaged or foreign file raises any error type inside torch.load
        raise _fail(path, f"cannot be read as a PyTorch state dict of tensors: {_found(path)} ({_reason(error)}). "
                    "Download the file again.", where, name) from None
    if not isinstance(data, dict):
        raise _fail(path, f"holds a {type(data).__name__}, not a state dict.", where, name)
    return data


def _read_safetensors(path: Path, where: str, name: str = "release") -> dict[str, Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise _fail(path, "file not found.", where, name)
    try:
        return load_file(str(path), device="cpu")
    except Exception as error:  # safetensors raises its own error type for any malformed header
        raise _fail(path, f"is not a readable safetensors file ({type(error).__name__}: {str(error)[:200]}).", where, name) from None


def _check_keys(path: Path, state: dict, expected: dict[str, tuple[int, ...]], where: str, name: str = "release") -> None:
    """Raise unless ``state`` has exactly the ``expected`` keys, all tensors of the expected shapes."""
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected), key=repr)  # a foreign pickle may mix key types
    if missing or extra:
        detail = []
        if missing:
            detail.append(f"{len(missing)} expected key(s) missing, e.g. {missing[:3]}")
        if extra:
            detail.append(f"{len(extra)} unexpected key(s), e.g. {extra[:3]}")
        raise _fail(path, f"is not the expected file: {'; '.join(detail)}.", where, name)
    for key, shape in expected.items():
        value = state[key]
        if not isinstance(value, Tensor):
            raise _fail(path, f"key {key} holds a {type(value).__name__}, not a tensor.", where, name)
        if tuple(value.shape) != tuple(shape):
            raise _fail(path, f"key {key} has shape {list(value.shape)}, expected {list(shape)}.", where, name)


# ---- appearance encoder ----------------------------------------------------------------------------


def appearance_config(widths: tuple[int, int, int, int]) -> dict:
    """The diffusers ``UNet2DConditionModel`` config of an appearance encoder with block widths
    ``widths`` (SD1.5: 320, 640, 1280, 1280): the SD1.5 UNet with 4 input channels."""
    return dict(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=tuple(widths),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=CONTEXT_DIM, attention_head_dim=8,
    )


def appearance_shapes(widths: tuple[int, int, int, int]) -> dict[str, tuple[int, ...]]:
    """Every parameter of the appearance encoder's architecture (an SD1.5 UNet of block widths
    ``widths``, 4 input channels), absent keys included, with its shape."""
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        unet = UNet2DConditionModel(**appearance_config(widths))
    return {k: tuple(v.shape) for k, v in unet.state_dict().items()}


def expected_appearance_keys(widths: tuple[int, int, int, int]) -> dict[str, tuple[int, ...]]:
    """Every key and shape of an official appearance encoder file with block widths ``widths``."""
    shapes = appearance_shapes(widths)
    for key in APPEARANCE_ABSENT_KEYS:
        del shapes[key]
    return shapes


def read_appearance_encoder(path: Path, where: str) -> tuple[dict[str, Tensor], tuple[int, int, int, int]]:
    """The appearance encoder's diffusers state dict and its block widths (SD1.5: 320, 640, 1280, 1280)."""
    state = _read_safetensors(path, where)
    try:
        widths = tuple(int(state[f"down_blocks.{i}.resnets.0.conv1.weight"].shape[0]) for i in range(4))
        in_channels = int(state["conv_in.weight"].shape[1])
    except KeyError as error:
        raise _fail(path, f"has no {error.args[0]}: it is not a diffusers SD1.5 UNet.", where) from None
    except IndexError:
        raise _fail(path, "has a conv_in or down block weight that is not a convolution kernel: it is not a diffusers SD1.5 UNet.", where) from None
    if in_channels != 4:
        raise _fail(path, f"is a UNet with {in_channels} input channels; the appearance encoder has 4.", where)
    _check_keys(path, state, expected_appearance_keys(widths), where)
    return state, widths


# ---- point embedding network -----------------------------------------------------------------------


def read_point_embedding(path: Path, where: str) -> dict[str, Tensor]:
    """The point embedding network's state dict (13 bias-free convs, :class:`PointEmbeddingNet`)."""
    state = _read_pickle(path, where)
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in PointEmbeddingNet().state_dict().items()}
    _check_keys(path, state, expected, where)
    return state


# ---- point attention (LayerNorm + projection per self-attention) -----------------------------------


def _width(block: TransformerBlock, widths: tuple[int, int, int, int]) -> int:
    """Channels of ``block``'s attention: the width of its level (the middle block's is the last down block's)."""
    return widths[block.level]


def read_point_attention(path: Path, widths: tuple[int, int, int, int], where: str) -> dict[tuple, dict[str, Tensor]]:
    """Per transformer block key, ``{"norm.weight", "norm.bias", "proj.weight"}`` of its self-attention's
    point projection (``lightning-drag-sd15-attn.bin``, keys ``"{2k}.norm.weight"`` … for k = 0-15)."""
    state = _read_pickle(path, where)
    expected = {}
    for block in TRANSFORMER_BLOCKS:
        i, e = block.processor_index, block.embed_dim
        expected.update({f"{i}.norm.weight": (e,), f"{i}.norm.bias": (e,), f"{i}.proj.weight": (_width(block, widths), e)})
    _check_keys(path, state, expected, where)
    return {
        block.key: {name: state[f"{block.processor_index}.{name}"] for name in ("norm.weight", "norm.bias", "proj.weight")}
        for block in TRANSFORMER_BLOCKS
    }


# ---- IP-Adapter ------------------------------------------------------------------------------------


def read_ip_adapter(path: Path, widths: tuple[int, int, int, int], where: str) -> tuple[dict[str, Tensor], dict[tuple, dict[str, Tensor]]]:
    """IP-Adapter sd15: the image projection (``proj.weight`` [3072, 1024], ``proj.bias``, ``norm.*`` [768])
    and, per transformer block key, its cross-attention's ``to_k_ip`` / ``to_v_ip`` [width, 768].

    Reads the published ``ip-adapter_sd15.bin`` (``{"image_proj": …, "ip_adapter": …}``) or its
    ``.safetensors`` twin (the same keys, prefixed ``image_proj.`` / ``ip_adapter.``)."""
    if path.suffix == ".safetensors":
        flat = _read_safetensors(path, where, "ip_adapter")
    else:
        nested = _read_pickle(path, where, "ip_adapter")
        if set(nested) != {"image_proj", "ip_adapter"} or not all(isinstance(v, dict) for v in nested.values()):
            raise _fail(path, f"has top-level keys {sorted(map(str, nested))[:5]}, expected image_proj and ip_adapter (an IP-Adapter sd15 file).", where, "ip_adapter")
        flat = {f"{group}.{name}": value for group, part in nested.items() for name, value in part.items()}
    expected = {
        "image_proj.proj.weight": (IP_TOKENS * CONTEXT_DIM, CLIP_VISION_DIM), "image_proj.proj.bias": (IP_TOKENS * CONTEXT_DIM,),
        "image_proj.norm.weight": (CONTEXT_DIM,), "image_proj.norm.bias": (CONTEXT_DIM,),
    }
    for block in TRANSFORMER_BLOCKS:
        for name in ("to_k_ip", "to_v_ip"):
            expected[f"ip_adapter.{block.processor_index + 1}.{name}.weight"] = (_width(block, widths), CONTEXT_DIM)
    _check_keys(path, flat, expected, where, "ip_adapter")
    projection = {name: flat[f"image_proj.{name}"] for name in ("proj.weight", "proj.bias", "norm.weight", "norm.bias")}
    layers = {
        block.key: {name: flat[f"ip_adapter.{block.processor_index + 1}.{name}.weight"] for name in ("to_k_ip", "to_v_ip")}
        for block in TRANSFORMER_BLOCKS
    }
    return projection, layers
