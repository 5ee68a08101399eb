"""Write a random-weight CLIP-ViT-H-14 image encoder that ComfyUI's CLIPVisionLoader reads as ViT-H.

Run with ComfyUI's Python: ``python make_rand_clip_vision_h.py COMFYUI_PATH OUT.safetensors``. The keys
and shapes come from ComfyUI's own ViT-H model (``comfy/clip_vision_config_h.json``), built on the meta
device; weights are seeded normal (std 0.02), norms 1, biases 0, saved as fp16 (about 1.3 GB).
"""

import json
import os
import sys

import torch
from in_process import boot
from safetensors.torch import save_file


def main() -> None:
    comfy_path, out = sys.argv[1], sys.argv[2]
    boot(comfy_path)
    import comfy.clip_model
    import comfy.ops

    with open(os.path.join(comfy_path, "comfy", "clip_vision_config_h.json")) as f:
        config = json.load(f)
    model = comfy.clip_model.CLIPVisionModelProjection(config, torch.float16, "meta", comfy.ops.manual_cast)
    g = torch.Generator().manual_seed(0)
    state = {}
    for key, value in model.state_dict().items():
        if "norm" in key and key.endswith("weight"):
            state[key] = torch.ones(value.shape, dtype=torch.float16)
        elif key.endswith("bias"):
            state[key] = torch.zeros(value.shape, dtype=torch.float16)
        else:
            state[key] = (0.02 * torch.randn(value.shape, generator=g)).half()
    save_file(state, out)


if __name__ == "__main__":
    main()
