"""LightningDrag beside other nodes' patches, compared with the same patches chained by hand, in-process in a
real ComfyUI (its own node classes, model loading and samplers; nothing stubbed).

Run with ComfyUI's Python (tests/integration/test_composition_by_hand.py does)::

    python composition_by_hand.py COMFYUI_PATH CONFIG.json OUT.json

CONFIG names the files (``models``: a folder with lightning_drag/, ipadapter/, clip_vision/, loras/, checkpoints/;
``checkpoint``, ``release``, ``ip_adapter``, ``clip_vision``, ``lora``) and the ``patches`` to try.

For each patch node it edits one 128×96 image three ways, all with DragKSampler's own steps
(``patched_model`` → ``sample_patched``): without the patch; with the patch node put on the MODEL
before DragKSampler, as a user wires it (``drag_sample``); and chained by hand:

* PerturbedAttentionGuidance, FreeU_V2, LoraLoaderModelOnly (a post-CFG function, a decoder block patch,
  weight patches): the patch node applied to LightningDrag's patched model, where ComfyUI chains both;
* DragTestImagePromptStandIn (an IPAdapter-style attn2 replacement): on LightningDrag's patched model,
  each block's cross-attention replaced by a function written here that adds LightningDrag's
  IP-Adapter term to the stand-in's output.

It writes, per patch, the largest difference of the edit to the one without the patch and to the one
chained by hand; and, under ``protocol``, whether loading LightningDrag's patched model made ComfyUI load
the LightningDrag attention weights too (named by the patches' ``models()``) and call the patches' ``to()``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import torch

TEST_PACK = Path(__file__).resolve().parent / "test_pack"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "devtools"))
from in_process import boot  # noqa: E402


def _import_test_pack():
    """The tests' own node pack (tests/integration/test_pack), imported as ComfyUI would import a pack."""
    spec = importlib.util.spec_from_file_location("drag_editing_test_nodes_by_hand", TEST_PACK / "__init__.py", submodule_search_locations=[str(TEST_PACK)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def call(node_class, **inputs):
    """Run a core node as ComfyUI would: V1 (``FUNCTION``) or V3 (``execute``) classes alike."""
    if hasattr(node_class, "FUNCTION"):
        return getattr(node_class(), node_class.FUNCTION)(**inputs)
    return node_class.execute(**inputs).result


def main() -> None:
    comfy_root, config_path, out = sys.argv[1:4]
    config = json.loads(Path(config_path).read_text())
    boot(comfy_root)
    import folder_paths
    import nodes
    from comfy_extras.nodes_freelunch import FreeU_V2
    from comfy_extras.nodes_pag import PerturbedAttentionGuidance

    test_pack = _import_test_pack()
    from drag_editing_dev.drag.points import DragPoints
    from drag_editing_dev.nodes import lightningdrag_models as lm
    from drag_editing_dev.drag.lightningdrag.guidance import PointGuidance
    from drag_editing_dev.nodes import lightningdrag_sampling as ld

    lm.register_folders()
    for folder in ("lightning_drag", "ipadapter", "clip_vision", "loras", "checkpoints"):
        folder_paths.add_model_folder_path(folder, str(Path(config["models"]) / folder))

    torch.manual_seed(0)
    rng = np.random.default_rng(7)
    image = torch.from_numpy(rng.integers(0, 255, (1, 96, 128, 3)).astype(np.float32) / 255)
    mask = torch.zeros(1, 96, 128)
    mask[:, 16:80, 16:112] = 1
    points = DragPoints.from_pairs([((40, 40), (70, 44))], 128, 96)

    with torch.inference_mode():
        model, clip, vae = call(nodes.CheckpointLoaderSimple, ckpt_name=config["checkpoint"])[:3]
        lightning = lm.load_release(config["release"], config["ip_adapter"])
        vision = call(nodes.CLIPVisionLoader, clip_name=config["clip_vision"])[0]
        vision_output = call(nodes.CLIPVisionEncode, clip_vision=vision, image=image, crop="center")[0]
        appearance = ld.encode_appearance(lightning, clip, {"samples": vae.encode(image)})
        embeds = ld.embed(lightning, points, mask, 0)
        conditioning = ld.inpaint_conditioning(appearance.conditioning, vae, image, mask, tuple(appearance.source.shape[-2:]))
        inputs = ld.DragInputs.of(lightning, appearance, embeds, vision_output)
        sampling, guidance = ld.Sampling(0, 3, "ddim", "ddim_uniform", 1), PointGuidance(4.0, "inv_square")

        def as_user_wires_it(patched_input):
            return ld.drag_sample(patched_input, inputs, ld.EditSource(vae, image, mask), sampling, guidance)["samples"]

        def on_ours(chain):
            ours = ld.patched_model(model, inputs, guidance)
            return ld.sample_patched(chain(ours), appearance.source, conditioning, sampling, guidance)["samples"]

        def standin_by_hand(ours):
            standin = test_pack.ImagePromptStandIn(1.0)
            replaces = ours.model_options["transformer_options"]["patches_replace"]["attn2"]
            for key, lightning_term in list(replaces.items()):
                def both(q, k, v, extra_options, lightning_term=lightning_term):
                    ip_term = lightning_term(q, k, v, extra_options) - ld._attention(q, k, v, extra_options)
                    return standin(q, k, v, extra_options) + ip_term
                ours.set_model_attn2_replace(both, *key)
            return ours

        node = {
            "PerturbedAttentionGuidance": lambda m: call(PerturbedAttentionGuidance, model=m, scale=3.0)[0],
            "FreeU_V2": lambda m: call(FreeU_V2, model=m, b1=1.3, b2=1.4, s1=0.9, s2=0.2)[0],
            "LoraLoaderModelOnly": lambda m: call(nodes.LoraLoaderModelOnly, model=m, lora_name=config["lora"], strength_model=1.0)[0],
            "DragTestImagePromptStandIn": lambda m: call(test_pack.DragTestImagePromptStandIn, model=m, weight=1.0)[0],
        }
        by_hand = {name: node[name] for name in node} | {"DragTestImagePromptStandIn": standin_by_hand}

        import comfy.model_management

        ours = ld.patched_model(model, inputs, guidance)
        comfy.model_management.unload_all_models()
        comfy.model_management.load_models_gpu([ours])
        loaded = [m.model for m in comfy.model_management.current_loaded_models]
        sample_patch = ours.model_options["transformer_options"]["patches_replace"]["attn1"][("input", 1)]
        results = {"protocol": {
            "weights_loaded_with_the_model": any(m is lightning.attention for m in loaded),
            "inputs_device": str(sample_patch.inputs.bank[("input", 1)].device),
            "load_device": str(ours.load_device),
        }}
        without = on_ours(lambda ours: ours)
        for name in config["patches"]:
            wired = as_user_wires_it(node[name](model))
            chained = on_ours(by_hand[name])
            results[name] = {
                "vs_without": float((wired - without).abs().max()),
                "vs_by_hand": float((wired - chained).abs().max()),
                "scale": float(without.abs().max()),
            }
    Path(out).write_text(json.dumps(results, indent=1))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
