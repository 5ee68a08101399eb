"""A small ComfyUI node pack used only by the tests: another pack's model patch, written the way
ComfyUI_IPAdapter_plus writes its own, to show that the drag nodes run beside it.

``DragTestImagePromptStandIn`` puts an ``attn2`` replacement object on every SD1.5 transformer block
(keys ``("input", id)``, ``("middle", 0)``, ``("output", id)``, as IPAdapter_plus does for SD1.5): the
text attention plus ``weight`` times an attention over 4 extra "image" tokens, which are seeded
random for conditional chunks and zero for unconditional ones (IPAdapter's uncond embeds). Like
IPAdapter's patch it has ``to()``, so ComfyUI moves its tensors, and it computes attention with
``optimized_attention``.
"""

import torch
from comfy.ldm.modules.attention import optimized_attention

SD15_TRANSFORMER_BLOCKS = [("input", i) for i in (1, 2, 4, 5, 7, 8)] + [("middle", 0)] + [("output", i) for i in range(3, 12)]


class ImagePromptStandIn:
    def __init__(self, weight: float):
        self.weight = weight
        self.tokens = {width: torch.randn(1, 4, width, generator=torch.Generator().manual_seed(width)) for width in (320, 640, 1280)}

    def to(self, device):
        if not isinstance(device, torch.dtype):
            self.tokens = {w: t.to(device) for w, t in self.tokens.items()}
        return self

    def __call__(self, q, k, v, extra_options):
        heads = extra_options["n_heads"]
        out = optimized_attention(q, k, v, heads)
        chunks = extra_options["cond_or_uncond"]
        tokens = self.tokens[q.shape[-1]].to(q)
        size = q.shape[0] // len(chunks)
        image = torch.cat([(tokens if kind == 0 else torch.zeros_like(tokens)).expand(size, -1, -1) for kind in chunks])
        return out + self.weight * optimized_attention(q, image, image, heads)


class DragTestImagePromptStandIn:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "weight": ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.01})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "testing"

    def patch(self, model, weight):
        patched = model.clone()
        patch = ImagePromptStandIn(weight)
        for block, number in SD15_TRANSFORMER_BLOCKS:
            patched.set_model_attn2_replace(patch, block, number)
        return (patched,)


NODE_CLASS_MAPPINGS = {"DragTestImagePromptStandIn": DragTestImagePromptStandIn}
