"""Write random-weight checkpoints of the architectures the tests run on (SD1.5 and its inpainting UNet,
SD2.x, SDXL) and of two that FastDrag refuses, in the formats ComfyUI's loaders read, checked by loading
them back with ComfyUI's own detection.

Run with ComfyUI's Python: ``python make_rand_checkpoint.py COMFYUI_PATH ARCH OUT.safetensors``.

* ``sd15``, ``sd15_inpaint``, ``sdxl``, ``sd20_v``, ``sd20_eps`` (and ``sd15_full``,
  ``sd15_inpaint_full``, ``sdxl_full``): whole checkpoints for CheckpointLoaderSimple (UNet, text encoders, VAE),
  detected as ``SD15`` (4 or 9 input channels), ``SDXL`` and ``SD20`` (v-prediction, ε). The UNet
  keeps the architecture's block layout: its levels, res blocks, transformer depths (SDXL: 2 and 10
  per attention block), attention heads, text width and size conditioning, with 320 channels at
  every level instead of growing with depth (``channel_mult`` 1), as ComfyUI's detection allows; the
  ``_full`` ones have the real widths (SD1.5: 320, 640, 1280, 1280; SDXL: 320, 640, 1280), for benchmarks.
  The text encoders are full size (ComfyUI builds them from fixed configs), the VAE is the SD VAE.
  SD2's v-prediction is told from ε the way ComfyUI tells real ones apart (the spread of one norm's
  bias in the last output block).
* ``sd3``: a two-block MMDiT for UNETLoader (a flow-matching model).
* ``cascade_c``: the tensors ComfyUI's detection reads of a Stable Cascade stage C (lite) for
  UNETLoader, and no others: the model loads as ``Stable_Cascade_C`` with its weights left
  uninitialised, which is enough for a test that it is refused before it computes anything.

The modules are ComfyUI's own, built from the config its detection would produce, so key names and
shapes are what the loaders expect; weights are seeded fan-in normal (norms 1, biases 0), with the
UNet's output rescaled to a unit-variance prediction. Saved as fp16.
"""

import math
import os
import sys

import torch
from in_process import boot
from safetensors.torch import save_file

_UNET = {
    "use_checkpoint": False, "image_size": 32, "in_channels": 4, "out_channels": 4, "model_channels": 320,
    "use_spatial_transformer": True, "legacy": False, "use_linear_in_transformer": True, "num_head_channels": 64,
    "use_temporal_attention": False, "use_temporal_resblock": False, "dtype": torch.float32,
}
_SD15 = {
    **_UNET, "use_linear_in_transformer": False, "num_head_channels": -1, "num_heads": 8, "adm_in_channels": None,
    "context_dim": 768, "num_res_blocks": [2, 2, 2, 2], "channel_mult": [1, 1, 1, 1], "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0],
    "transformer_depth_middle": 1, "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
}
UNETS = {
    "sd15": _SD15,
    "sd15_inpaint": {**_SD15, "in_channels": 9},
    "sd15_full": {**_SD15, "channel_mult": [1, 2, 4, 4]},
    "sd15_inpaint_full": {**_SD15, "in_channels": 9, "channel_mult": [1, 2, 4, 4]},
    "sdxl": {
        **_UNET, "num_classes": "sequential", "adm_in_channels": 2816, "context_dim": 2048, "num_res_blocks": [2, 2, 2],
        "channel_mult": [1, 1, 1], "transformer_depth": [0, 0, 2, 2, 10, 10], "transformer_depth_middle": 10,
        "transformer_depth_output": [0, 0, 0, 2, 2, 2, 10, 10, 10],
    },
    "sdxl_full": {
        **_UNET, "num_classes": "sequential", "adm_in_channels": 2816, "context_dim": 2048, "num_res_blocks": [2, 2, 2],
        "channel_mult": [1, 2, 4], "transformer_depth": [0, 0, 2, 2, 10, 10], "transformer_depth_middle": 10,
        "transformer_depth_output": [0, 0, 0, 2, 2, 2, 10, 10, 10],
    },
    "sd20": {
        **_UNET, "adm_in_channels": None, "context_dim": 1024, "num_res_blocks": [2, 2, 2, 2], "channel_mult": [1, 1, 1, 1],
        "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0], "transformer_depth_middle": 1,
        "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
    },
}
EXPECTED = {"sd15": ("SD15", "EPS"), "sd15_inpaint": ("SD15", "EPS"), "sd15_full": ("SD15", "EPS"),
            "sd15_inpaint_full": ("SD15", "EPS"), "sdxl": ("SDXL", "EPS"), "sdxl_full": ("SDXL", "EPS"), "sd20_v": ("SD20", "V_PREDICTION"), "sd20_eps": ("SD20", "EPS"),
            "sd3": ("SD3", "FLOW"), "cascade_c": ("Stable_Cascade_C", "STABLE_CASCADE")}
V_PRED_NORM = "output_blocks.11.1.transformer_blocks.0.norm1.bias"  # what comfy.supported_models.SD20 reads


def randomize(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Seeded fan-in normal weights, norms 1, biases 0 (ComfyUI's modules skip initialisation)."""
    with torch.no_grad():
        for name, tensor in module.state_dict(keep_vars=True).items():
            leaf = name.rsplit(".", 1)[-1]
            if not tensor.is_floating_point():
                continue
            if leaf == "bias":
                tensor.zero_()
            elif "norm" in name.lower() or tensor.ndim < 2:
                tensor.fill_(1.0)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=generator) / math.sqrt(tensor[0].numel()))


def _unit_prediction(diffusion_model, config: dict, generator: torch.Generator) -> None:
    """Rescale the last convolution so that the random prediction has a standard deviation near 1."""
    x = torch.randn(1, config["in_channels"], 8, 8, generator=generator)
    context = torch.randn(1, 77, config["context_dim"], generator=generator)
    y = torch.randn(1, config["adm_in_channels"], generator=generator) if config["adm_in_channels"] else None
    with torch.no_grad():
        scale = 1.0 / float(diffusion_model(x, torch.tensor([500.0]), context=context, y=y).std())
        diffusion_model.out[2].weight.mul_(scale)
        diffusion_model.out[2].bias.mul_(scale)


def _checkpoint(arch: str, generator: torch.Generator) -> dict:
    import comfy.ldm.models.autoencoder
    import comfy.model_detection

    config = dict(UNETS[arch.removesuffix("_v").removesuffix("_eps")])
    model_config = comfy.model_detection.model_config_from_unet_config(config)
    model_config.set_inference_dtype(torch.float32, None)
    model = model_config.get_model({}, "model.diffusion_model.", device=torch.device("cpu"))
    randomize(model.diffusion_model, generator)
    _unit_prediction(model.diffusion_model, config, generator)
    unet = model.diffusion_model.state_dict()
    if arch == "sd20_v":
        unet[V_PRED_NORM] = torch.randn(unet[V_PRED_NORM].shape, generator=generator) * 0.2

    target = model_config.clip_target()
    clip = target.clip(device="cpu", dtype=torch.float32)
    randomize(clip, generator)

    ddconfig = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128,
                "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}
    vae = comfy.ldm.models.autoencoder.AutoencoderKL(ddconfig=ddconfig, embed_dim=4)
    randomize(vae, generator)

    state = model_config.process_unet_state_dict_for_saving(unet)
    state.update(model_config.process_clip_state_dict_for_saving(clip.state_dict()))
    state.update(model_config.process_vae_state_dict_for_saving(vae.state_dict()))
    return state


def _sd3(generator: torch.Generator) -> dict:
    import comfy.model_detection

    config = {
        "in_channels": 16, "out_channels": 16, "patch_size": 2, "depth": 2, "input_size": None, "adm_in_channels": 2048,
        "context_embedder_config": {"target": "torch.nn.Linear", "params": {"in_features": 4096, "out_features": 128}},
        "num_patches": 64 * 64, "pos_embed_max_size": 64, "pos_embed_scaling_factor": None, "x_block_self_attn_layers": [],
    }
    model_config = comfy.model_detection.model_config_from_unet_config(config)
    model_config.set_inference_dtype(torch.float32, None)
    model = model_config.get_model({}, "", device=torch.device("cpu"))
    randomize(model.diffusion_model, generator)
    return model.diffusion_model.state_dict()


def _cascade_c(generator: torch.Generator) -> dict:
    # clip_txt_mapper's 1536 rows make it the lite stage C; clf.1 marks a Stable Cascade model.
    return {"clf.1.weight": torch.randn(16, 1536, 1, 1, generator=generator), "clip_txt_mapper.weight": torch.randn(1536, 1280, generator=generator)}


def _check(arch: str, path: str) -> None:
    import comfy.sd

    if arch in ("sd3", "cascade_c"):
        model = comfy.sd.load_diffusion_model(path)
    else:
        model = comfy.sd.load_checkpoint_guess_config(path, output_vae=True, output_clip=True)[0]
    found = (type(model.model.model_config).__name__, model.model.model_type.name)
    if found != EXPECTED[arch]:
        raise SystemExit(f"{path}: ComfyUI detects {found}, expected {EXPECTED[arch]}")


def main() -> None:
    comfy_path, arch, out = sys.argv[1:4]
    boot(comfy_path)  # on the CPU: a CPU-only torch
    generator = torch.Generator().manual_seed(0)
    make = {"sd3": _sd3, "cascade_c": _cascade_c}.get(arch, lambda g: _checkpoint(arch, g))
    state = {key: value.half().contiguous() for key, value in make(generator).items()}
    partial = out.removesuffix(".safetensors") + ".partial.safetensors"  # ComfyUI picks the reader by extension
    save_file(state, partial)
    _check(arch, partial)
    os.replace(partial, out)


if __name__ == "__main__":
    main()
