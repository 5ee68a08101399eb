"""FastDrag beyond SD1.5 (drag/fastdrag/architectures.py): the decoder layers each architecture records, the
record's size, where it is kept, and inversion + K/V reuse on tiny diffusers UNets in SDXL's layout and with
SD2's v-prediction, driven the way ComfyUI drives its own (tests/unet_harness.py)."""

import re

import pytest
import torch

import unet_harness as H
from drag_editing_dev.drag.schedule import vp_latent
from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.fastdrag.architectures import (
    check_family,
    decoder_layers,
    record_bytes,
    record_storage,
)

from .common import comfy_style, invert_and_record, sample_with, schedules, sharpen_self_attention

# ComfyUI's unet_config (what comfy.model_detection reads off the weights) of the released architectures.
SD15 = {"model_channels": 320, "channel_mult": [1, 2, 4, 4], "num_res_blocks": [2, 2, 2, 2],
        "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]}
SD20 = dict(SD15)  # SD2.x changes the text width, heads and projections, not the block layout
SDXL = {"model_channels": 320, "channel_mult": [1, 2, 4], "num_res_blocks": [2, 2, 2],
        "transformer_depth_output": [0, 0, 0, 2, 2, 2, 10, 10, 10]}
# The same descriptions of the harness's tiny diffusers UNets (32 wide at every level).
TINY_SD15 = {**SD15, "model_channels": 32, "channel_mult": [1, 1, 1, 1]}
TINY_SDXL = {**SDXL, "model_channels": 32, "channel_mult": [1, 1, 1]}


def test_layers_of_each_architecture():
    sd15 = decoder_layers(SD15)
    assert [key for key, _, _ in sd15] == [("output", i, 0) for i in range(3, 12)]
    assert [(level, channels) for _, level, channels in sd15] == [(2, 1280)] * 3 + [(1, 640)] * 3 + [(0, 320)] * 3
    assert decoder_layers(SD20) == sd15
    sdxl = decoder_layers(SDXL)
    assert [key for key, _, _ in sdxl] == [("output", b, i) for b in range(3) for i in range(10)] + [
        ("output", b, i) for b in range(3, 6) for i in range(2)
    ]
    assert {(level, channels) for _, level, channels in sdxl[:30]} == {(2, 1280)}
    assert {(level, channels) for _, level, channels in sdxl[30:]} == {(1, 640)}


def test_record_size_of_the_released_models():
    # SD1.5 at 512² in fp16, 7 steps: 91.9 MiB; SDXL at 1024²: 735.0 MiB.
    assert record_bytes(SD15, (1, 4, 64, 64), 7, 2) == 7 * 2 * (3 * 64 * 64 * 320 + 3 * 32 * 32 * 640 + 3 * 16 * 16 * 1280)
    assert record_bytes(SDXL, (1, 4, 128, 128), 7, 2) == 7 * 2 * (6 * 64 * 64 * 640 + 30 * 32 * 32 * 1280)
    # Odd sizes round up at each downsampling, as the UNet's stride-2 convolutions do: 13×19 → 7×10 → 4×5.
    assert record_bytes(SDXL, (2, 4, 13, 19), 1, 4) == 2 * 4 * (6 * 7 * 10 * 640 + 30 * 4 * 5 * 1280)


def test_unsupported_families_are_refused_with_the_list():
    for family in ("SD15", "SD20", "SDXL"):
        check_family(family, "BaseModel")
    for family, model in (("SD3", "SD3"), ("Stable_Cascade_C", "StableCascade_C"), ("SDXLRefiner", "SDXLRefiner")):
        with pytest.raises(DragInputError, match=rf"^model: FastDrag runs on .*SD15: .*SD20: .*SDXL: .* but this model is {family} \({model}\)"):
            check_family(family, model)
    for channels, kind in ((9, "an inpainting SD15 UNet"), (5, "a 5-channel (e.g. depth) SD15 UNet")):
        with pytest.raises(DragInputError, match=rf"^model: this is {re.escape(kind)}, .* Load the plain \(text-to-image\) checkpoint"):
            check_family("SD15", "BaseModel", channels)


def test_record_goes_where_it_fits():
    gib = 2**30
    assert record_storage(gib, 4 * gib, 8 * gib, offload=False) == "device"
    assert record_storage(gib, 4 * gib, 8 * gib, offload=True) == "cpu"
    assert record_storage(gib, gib // 2, 8 * gib, offload=False) == "cpu"  # on the device's behalf
    assert record_storage(gib, None, 8 * gib, offload=False) == "cpu"  # a CPU device: system memory anyway
    with pytest.raises(DragInputError, match=r"drag_kv: the K/V record of this inversion needs 1.00 GiB but the system has 0.50 GiB free"):
        record_storage(gib, gib // 2, gib // 2, offload=False)
    assert record_storage(gib, 2 * gib, gib // 2, offload=False) == "device"  # the host is not asked to hold it


def _sdxl_setup(seed, height=12, width=20):
    torch.manual_seed(seed)
    unet = H.tiny_sdxl_unet(seed)
    sharpen_self_attention(unet, gain=10.0)
    added = H.sdxl_conditioning(1, height, width)
    model = H.Denoiser(unet, torch.randn(1, 77, H.CONTEXT_DIM), H.official_scheduler(), added=added)
    return unet, model, torch.randn(1, 4, height, width)


@torch.no_grad()
def test_sdxl_layout_records_every_decoder_layer_and_the_patch_replaces_exactly_those():
    unet, model, z0 = _sdxl_setup(0, 13, 19)
    timesteps, inversion_sigmas, sampling_sigmas = schedules(model)
    x, kv = invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    layers = decoder_layers(TINY_SDXL)
    assert list(kv.states) == sorted(key for key, _, _ in layers)  # 36 layers: output 0-2 × 10, 3-5 × 2
    assert kv.nbytes == record_bytes(TINY_SDXL, tuple(z0.shape), len(timesteps), 4)
    assert kv.states[("output", 0, 9)].shape == (7, 1, 4 * 5, 32) and kv.states[("output", 5, 1)].shape == (7, 1, 7 * 10, 32)

    replaced, seen = set(), set()

    def spy(n, context, value, extra_options):
        key = (*extra_options["block"], extra_options["block_index"])
        seen.add(key)
        if context is not n:
            replaced.add(key)
        return n, context, value

    sample_with(unet, model, kv, x, sampling_sigmas, after=[spy])
    assert replaced == set(kv.states)
    assert len(seen) == 2 * 2 + 2 * 10 + 10 + 36  # every self-attention of the UNet was called


def _reconstruction_errors(unet, model, z0):
    """Mean |error| of the identity drag (inversion, then sampling back) with and without the K/V reuse."""
    timesteps, inversion_sigmas, sampling_sigmas = schedules(model)
    x, kv = invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    with_kv = vp_latent(sample_with(unet, model, kv, x, sampling_sigmas), sampling_sigmas[-1])
    comfy_style(unet, model, [], tuple(z0.shape[-2:]))
    without = vp_latent(H.sample_euler(model, x, sampling_sigmas), sampling_sigmas[-1])
    return float((with_kv - z0).abs().mean()), float((without - z0).abs().mean())


@pytest.mark.parametrize("seed", [0, 1])
@torch.no_grad()
def test_consistency_reconstructs_an_identity_drag_closer_on_the_sdxl_layout(seed):
    # Measured on this tiny random SDXL-layout UNet (z0 ~ N(0, 1), 12×20 latent): mean |error| 0.137 and 0.129
    # with the K/V reuse against 0.177 and 0.175 without (0.78 and 0.73 of it); the bounds leave a margin.
    unet, model, z0 = _sdxl_setup(seed)
    with_kv, without = _reconstruction_errors(unet, model, z0)
    assert with_kv < 0.16
    assert with_kv < 0.85 * without, (with_kv, without)


@pytest.mark.parametrize("seed", [0, 1])
@torch.no_grad()
def test_consistency_reconstructs_an_identity_drag_closer_with_v_prediction(seed):
    # SD2.x 768-v: the same steps on a v-prediction UNet (SD1.5 layout, linear projections as SD2). Measured
    # (16² latent): mean |error| 0.090 and 0.070 with the K/V reuse against 0.113 and 0.092 without (0.79, 0.76).
    torch.manual_seed(seed)
    unet = H.tiny_unet(seed, linear_projection=True)
    sharpen_self_attention(unet, gain=3.0)
    model = H.Denoiser(unet, torch.randn(1, 77, H.CONTEXT_DIM), H.official_scheduler(), prediction="v")
    with_kv, without = _reconstruction_errors(unet, model, torch.randn(1, 4, 16, 16))
    assert with_kv < 0.1
    assert with_kv < 0.87 * without, (with_kv, without)
