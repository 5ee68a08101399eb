"""How the pack meets ComfyUI (drag/comfy_protocol.py), without ComfyUI: block keys, CFG chunks, the step of a
sigma, patch objects, and installing a replacement beside another pack's.

``PatcherOptions`` (tests/unet_harness.py) holds model options as ComfyUI's ModelPatcher does, so the lookup
order (``(block, id, index)`` before ``(block, id)``) is checked here; the same behaviour is checked on a real
ModelPatcher in tests/integration/test_composition*.py.
"""

from __future__ import annotations

import copy

import torch

from helpers import error_of
from unet_harness import PatcherOptions
from drag_editing_dev.drag.comfy_protocol import (
    Patch, Placed, add_on_rows, conditional, conditional_rows, current_replace, describe, for_every_chunk, install_replace, layer_key,
    activations_hw, attention_patches, cfg_call, cfg_function, chunks, module_of, plain_attention, schedule_step, step_sigma,
    with_cond_scale, with_patch,
)


class Ours(Patch):
    def __init__(self, inner):
        self.inner = inner

    def __call__(self, q, k, v, extra_options):
        return self.attend(lambda q, k, v, _: q + k + v, q, k, v, extra_options) * 10


def sag_like(q, k, v, extra_options):
    return q


def test_block_keys_come_from_comfyuis_block_and_index():
    assert layer_key({"block": ("output", 4), "block_index": 2}) == ("output", 4, 2)
    assert layer_key({"block": ("middle", 0)}) == ("middle", 0, 0)
    assert layer_key({}) is None


def test_cfg_chunks_in_any_order_together_or_alone():
    x = torch.arange(6.0).view(6, 1, 1)  # three chunks of two rows
    options = {"cond_or_uncond": [1, 0, 1]}
    assert conditional(x, options).flatten().tolist() == [2.0, 3.0]
    assert conditional(x, {"cond_or_uncond": [1]}) is None
    rows = conditional_rows(options, x)
    assert rows.flatten().tolist() == [0, 0, 1, 1, 0, 0] and rows.dtype == x.dtype
    assert add_on_rows(x, torch.ones(1, 1, 1), rows).flatten().tolist() == [0, 1, 3, 4, 4, 5]
    assert conditional_rows({"cond_or_uncond": [0]}, x[:2]) is None
    assert add_on_rows(x[:2], torch.ones(1, 1, 1), None).flatten().tolist() == [1, 2]
    assert for_every_chunk(x[:2], options).flatten().tolist() == [0, 1] * 3
    one = for_every_chunk(x[:1], options)  # one latent: a view, no copy
    assert one.flatten().tolist() == [0.0] * 3 and one.data_ptr() == x.data_ptr()


def test_the_step_of_a_run_is_found_from_the_schedule_comfyui_hands_the_model():
    schedule = torch.tensor([14.6, 4.0, 1.0, 0.0])
    step, steps = schedule_step({"sample_sigmas": schedule}, torch.full((2,), 1.05))
    assert int(step) == 2 and steps == 3 and step.dim() == 0


def test_an_existing_replacement_is_chained_not_dropped():
    options = PatcherOptions()
    options.set_model_attn1_replace(sag_like, "middle", 0, 0)  # SelfAttentionGuidance's key form
    ours = install_replace(options, "attn1", ("middle", 0), Ours)
    assert ours.inner is sag_like
    assert current_replace(options, "attn1", ("middle", 0)) is ours  # nothing shadows ours any more
    one = torch.ones(1)
    assert float(ours(one, one, one, {})) == 10.0  # ours ran the other one's attention


def test_without_one_ours_computes_the_attention_and_a_later_pass_override_still_wins():
    options = PatcherOptions()
    ours = install_replace(options, "attn2", ("input", 4), Ours)
    assert ours.inner is None and float(ours(torch.ones(1), torch.ones(1), torch.ones(1), {})) == 30.0
    # PerturbedAttentionGuidance sets ("middle", 0) in a copy of the options for its own pass; ComfyUI's
    # lookup tries (block, id, 0) first, so ours must not sit there and shadow such an override.
    install_replace(options, "attn1", ("middle", 0), Ours)
    assert ("middle", 0, 0) not in options.model_options["transformer_options"]["patches_replace"]["attn1"]


def test_placed_inputs_move_as_copies_keep_values_until_moved_and_are_shared_by_copies():
    home = torch.zeros(1, 2, 3)
    inputs = Placed(bank={("input", 1): home}, levels=[(torch.zeros(1), torch.zeros(2))], size=(8, 8))
    made = []
    assert inputs.once("k", lambda: made.append(1) or "value") == "value" == inputs.once("k", lambda: made.append(1))
    assert made == [1]  # made once
    assert inputs.to(torch.device("meta")) is inputs
    assert inputs.bank[("input", 1)].device.type == "meta" and inputs.levels[0][1].device.type == "meta"
    assert inputs.once("k", lambda: "remade") == "remade"  # a move drops what was made for the old place
    assert inputs.to(torch.float16).bank[("input", 1)].dtype == torch.float32
    inputs.to("cpu")  # back where the node output lives: the original, not a copy
    assert inputs.bank[("input", 1)] is home
    inputs.forget()
    assert inputs.once("k", lambda: "again") == "again"
    assert copy.deepcopy(inputs) is inputs and inputs.size == (8, 8)


def test_patches_are_named_by_function_and_pack():
    assert describe(sag_like) == "sag_like (from test_comfy_protocol)"
    assert describe(Ours(None)).startswith("Ours (from ")

    def from_file():
        pass

    from_file.__module__ = "/opt/ComfyUI/comfy_extras/nodes_sag"  # how ComfyUI names modules it loads from files
    assert module_of(from_file) == "comfy_extras.nodes_sag"
    assert describe(from_file).endswith("from_file (from comfy_extras.nodes_sag)")


def test_a_model_split_across_gpus_is_refused_by_name():
    from drag_editing_dev.drag.comfy_protocol import refuse_split_across_devices

    refuse_split_across_devices({}, "DragKSampler")  # one device: nothing to refuse
    for options in ({"multigpu_options": {"cuda:0": {}, "cuda:1": {}}}, {"multigpu_clones": {"cuda:1": object()}}):
        message = error_of(refuse_split_across_devices, options, "DragKSampler")
        assert message.startswith("model: it is set up to split sampling across several GPUs") and "DragKSampler" in message


def test_what_the_pack_reads_of_comfyuis_options_is_read_in_one_place():
    options = {"cond_or_uncond": [1, 0], "sigmas": torch.tensor([2.5]), "activations_shape": (2, 320, 8, 12), "n_heads": 5,
               "attn_precision": None}
    assert chunks(options) == (1, 0) and chunks({}) == (0,)
    assert float(step_sigma(options)) == 2.5 and activations_hw(options) == (8, 12)
    seen = []
    plain_attention(lambda *a, **k: seen.append((a[3], k["attn_precision"], k["transformer_options"])), 1, 2, 3, options)
    assert seen == [(5, None, options)]
    patcher = PatcherOptions()
    assert attention_patches(patcher, "attn1_patch") == [] and cfg_function(patcher) is None
    patcher.set_model_attn1_patch(len)
    patcher.model_options["sampler_cfg_function"] = max
    assert attention_patches(patcher, "attn1_patch") == [len] and cfg_function(patcher) is max
    assert with_patch("attn1_patch", len) == {"patches": {"attn1_patch": [len]}}
    args = {"cond": torch.ones(1), "uncond": torch.zeros(1), "sigma": torch.tensor([1.05]), "cond_scale": 7.0,
            "model_options": {"transformer_options": {"sample_sigmas": torch.tensor([14.6, 4.0, 1.0, 0.0])}}}
    call = cfg_call(args)
    assert (float(call.cond), float(call.uncond), int(call.step), call.steps) == (1.0, 0.0, 2, 3)
    assert with_cond_scale(args, 2.0)["cond_scale"] == 2.0 and args["cond_scale"] == 7.0
