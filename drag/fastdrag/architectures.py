"""Which UNets FastDrag runs on, and which of their layers its K/V consistency records (no ComfyUI import).

FastDrag needs no training: its steps (DDIM inversion, the latent warp, BNNI, sampling with the
inversion's self-attention keys and values) only ask of the model that it samples on the SD family's
1000 discrete timesteps and that its decoder has self-attention. The official code hard-codes SD1.5;
the same steps apply unchanged to SD2.x (ε and v-prediction) and SDXL.

The record covers every self-attention layer of the decoder, as the official code does on SD1.5
(diffusers ``up_blocks``, ComfyUI ``output`` blocks): one layer per transformer of each output block,
keyed ``("output", block id, transformer index)`` as ComfyUI names it. An architecture is described
here by ComfyUI's ``unet_config`` (what its model detection reads off the UNet's weights):
``channel_mult``, ``num_res_blocks`` (int or one per level), ``transformer_depth_output`` (the
transformer count of each output block, listed from the highest-resolution level up; ComfyUI builds
the output blocks from the lowest resolution down, taking from the end of that list) and
``model_channels``.
"""

from __future__ import annotations

import math

from ..comfy_protocol import LayerKey
from ..errors import DragInputError

SUPPORTED_FAMILIES = {
    "SD15": "SD1.5 and its fine-tunes (the family of the official release)",
    "SD20": "SD2.x, 512² ε-prediction and 768² v-prediction",
    "SDXL": "SDXL base and its fine-tunes",
}
"""ComfyUI's model-config class names (``comfy.supported_models``) of the architectures FastDrag runs on."""


def supported_list() -> str:
    return "; ".join(f"{name}: {what}" for name, what in SUPPORTED_FAMILIES.items())


def check_family(family: str, model_class: str, in_channels: int = 4) -> None:
    """Raise unless ``family`` (the model config's class name, e.g. ``"SDXL"``) is supported, with a UNet
    that takes the latent alone (``in_channels`` 4).

    Inpainting (9 channels) and depth (5) UNets are refused: they expect a mask and a masked image beside
    the latent, which FastDrag's inversion and sampling do not give (ComfyUI would fill in a blank one),
    and the method was published on a plain UNet.
    """
    if family not in SUPPORTED_FAMILIES:
        raise DragInputError(
            f"model: FastDrag runs on the UNets of the SD family ({supported_list()}), but this model is "
            f"{family} ({model_class}). Load one of those checkpoints."
        )
    if in_channels != 4:
        kind = "an inpainting" if in_channels == 9 else f"a {in_channels}-channel (e.g. depth)"
        raise DragInputError(
            f"model: this is {kind} {family} UNet, which takes extra channels beside the latent; FastDrag inverts and "
            "samples a plain UNet (the official release uses LCM_Dreamshaper_v7's SD1.5 UNet). Load the plain "
            "(text-to-image) checkpoint of the same family (LightningDrag is the method that uses an inpainting model)."
        )


def decoder_layers(unet_config: dict) -> list[tuple[LayerKey, int, int]]:
    """Every decoder self-attention layer as ``(layer key, level, channels)``, in ComfyUI's block order.

    ``level`` counts the UNet's downsamplings (0 = the latent's resolution); ``channels`` is the width
    of the layer's input (ComfyUI's transformers keep their block's width). SD1.5 and SD2.x: output
    blocks 3-11, one layer each; SDXL: output blocks 0-2 with 10 layers each and 3-5 with 2 each.
    """
    mult = list(unet_config["channel_mult"])
    res = unet_config["num_res_blocks"]
    res = [res] * len(mult) if isinstance(res, int) else list(res)
    depths = list(unet_config["transformer_depth_output"])
    layers = []
    block = 0
    for level in reversed(range(len(mult))):
        for _ in range(res[level] + 1):
            depth = depths.pop()
            layers += [(("output", block, index), level, unet_config["model_channels"] * mult[level]) for index in range(depth)]
            block += 1
    return layers


def level_size(height: int, width: int, level: int) -> tuple[int, int]:
    """The (h, w) of a UNet level for a latent of ``height`` × ``width``: each downsampling (a stride-2
    convolution with padding 1) rounds up."""
    for _ in range(level):
        height, width = math.ceil(height / 2), math.ceil(width / 2)
    return height, width


def record_bytes(unet_config: dict, latent_shape: tuple[int, ...], steps: int, itemsize: int) -> int:
    """The size of FastDrag's K/V record for ``steps`` inversion steps of latents ``latent_shape``
    [B, C, h, w], stored in a dtype of ``itemsize`` bytes: one [B, h·w, channels] input per layer and step."""
    batch, _, height, width = latent_shape
    elements = sum(math.prod(level_size(height, width, level)) * channels for _, level, channels in decoder_layers(unet_config))
    return steps * batch * elements * itemsize


def record_storage(record: int, device_budget: int | None, host_free: int, offload: bool) -> str:
    """Where to keep a K/V record of ``record`` bytes: ``"device"`` or ``"cpu"``.

    ``device_budget``: what the compute device can spare once the model and its sampling work are
    loaded (None when the device is the CPU); ``host_free``: free system memory. The record goes to
    system memory when asked (``offload``) or when it would not fit on the device; it is refused when
    it would not fit where it has to go, before the inversion starts.
    """
    gib = lambda n: f"{n / 2**30:.2f} GiB"  # noqa: E731
    on_host = device_budget is None or offload or record > device_budget
    if on_host and record > host_free:
        raise DragInputError(
            f"drag_kv: the K/V record of this inversion needs {gib(record)} but the system has {gib(host_free)} free. "
            "It grows with the image area and the inversion steps: lower inversion_strength or steps, or edit a "
            "smaller image."
        )
    return "cpu" if on_host else "device"
