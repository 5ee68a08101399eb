"""Write a random-weight SD1.5 ControlNet for the tiny test checkpoints (block widths 320 at every level),
in the original ``control_model.*`` format that ComfyUI's ControlNetLoader reads.

Run with ComfyUI's Python: ``python make_rand_controlnet.py COMFYUI_PATH OUT.safetensors``. The module is
ComfyUI's own ``comfy.cldm.cldm.ControlNet`` for the tiny layout; weights are seeded fan-in normal, norms
1, biases 0, and the zero convolutions are random too (a trained ControlNet starts them at zero), so the
control visibly changes what the UNet predicts. Saved as fp16 (about 0.1 GB).
"""

import math
import sys

import torch
from in_process import boot
from safetensors.torch import save_file

TINY_SD15 = {
    "image_size": 32, "in_channels": 4, "model_channels": 320, "num_res_blocks": [2, 2, 2, 2],
    "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0], "channel_mult": [1, 1, 1, 1], "transformer_depth_middle": 1,
    "use_linear_in_transformer": False, "context_dim": 768, "num_heads": 8, "use_spatial_transformer": True,
    "legacy": False, "adm_in_channels": None, "hint_channels": 3,
}


def main() -> None:
    comfy_path, out = sys.argv[1], sys.argv[2]
    boot(comfy_path)
    import comfy.cldm.cldm
    import comfy.ops

    model = comfy.cldm.cldm.ControlNet(**TINY_SD15, dtype=torch.float32, device="cpu", operations=comfy.ops.disable_weight_init)
    g = torch.Generator().manual_seed(0)
    state = {}
    for key, value in model.state_dict().items():
        if ("norm" in key and key.endswith("weight")) or value.ndim == 1 and not key.endswith("bias"):
            tensor = torch.ones(value.shape)
        elif key.endswith("bias"):
            tensor = torch.zeros(value.shape)
        else:
            tensor = torch.randn(value.shape, generator=g) / math.sqrt(value[0].numel())
        state["control_model." + key] = tensor.half().contiguous()
    save_file(state, out)


if __name__ == "__main__":
    main()
