"""FastDrag's K/V record on an SDXL checkpoint, in-process in a real ComfyUI: the size worked out before the
inversion is what the inversion then records, and the device budget is computed with ComfyUI's own model
management calls (the GPU branch of the placement runs them; here they run on the CPU model).

Run with ComfyUI's Python (tests/integration/test_fastdrag_record.py does)::

    python fastdrag_record_in_process.py COMFYUI_PATH CHECKPOINT OUT.json

It inverts a 256×384 image (a 32×48 latent) with the pack's FastDragInvert code and writes the recorded
and the computed size, the record's layers, and the budget a device with 64 GiB free would have had
before the UNet was loaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "devtools"))
from in_process import boot  # noqa: E402


def main() -> None:
    comfy_root, checkpoint, out = sys.argv[1:4]
    boot(comfy_root)
    import comfy.sd
    import torch

    from drag_editing_dev.drag.fastdrag.architectures import record_bytes
    from drag_editing_dev.nodes import fastdrag_sampling as fd
    from drag_editing_dev.nodes.comfy_sampling import empty_prompt

    model, clip, vae = comfy.sd.load_checkpoint_guess_config(checkpoint, output_vae=True, output_clip=True)[:3]
    free = 64 * 2**30
    with torch.inference_mode():
        latent = {"samples": vae.encode(torch.rand(1, 256, 384, 3, generator=torch.Generator().manual_seed(0)))}
        shape = tuple(latent["samples"].shape)
        loaded, budget = model.loaded_size(), fd.device_budget(model, shape, free)  # before the UNet is loaded
        _, kv = fd.invert(model, latent, empty_prompt(clip), steps=10, strength=0.7, offload=False)
    Path(out).write_text(json.dumps({
        "family": type(model.model.model_config).__name__,
        "latent_shape": shape,
        "layers": [list(key) for key in kv.states],
        "recorded": kv.nbytes,
        "computed": record_bytes(model.model.model_config.unet_config, shape, 7, kv.states[next(iter(kv.states))].element_size()),
        "budget": budget,
        "free": free,
        "to_load": model.model_size() - loaded,
        "work": model.memory_required(shape),
    }))


if __name__ == "__main__":
    main()
