"""The patch layer shared by both methods (drag/model_patches.py), without ComfyUI.

``Options`` below holds model options the way ComfyUI's ModelPatcher does and has its two replacement
setters, so the lookup order (``(block, id, index)`` before ``(block, id)``) can be checked here; the
same behaviour is checked on a real ModelPatcher in tests/integration/test_composition.py.
"""

from __future__ import annotations

import copy

import torch

from drag_editing_pack_under_test.drag.model_patches import Patch, Placed, current_replace, describe, install_replace, module_of


class Options:
    def __init__(self):
        self.model_options = {"transformer_options": {}}

    def _set(self, kind, patch, block_name, number, transformer_index=None):
        key = (block_name, number) if transformer_index is None else (block_name, number, transformer_index)
        replaces = self.model_options["transformer_options"].setdefault("patches_replace", {}).setdefault(kind, {})
        replaces[key] = patch

    def set_model_attn1_replace(self, patch, block_name, number, transformer_index=None):
        self._set("attn1", patch, block_name, number, transformer_index)

    def set_model_attn2_replace(self, patch, block_name, number, transformer_index=None):
        self._set("attn2", patch, block_name, number, transformer_index)


class Ours(Patch):
    def __init__(self, inner):
        self.inner = inner

    def __call__(self, q, k, v, extra_options):
        return self.attend(lambda q, k, v, _: q + k + v, q, k, v, extra_options) * 10


def sag_like(q, k, v, extra_options):
    return q


def test_an_existing_replacement_is_chained_not_dropped():
    options = Options()
    options.set_model_attn1_replace(sag_like, "middle", 0, 0)  # SelfAttentionGuidance's key form
    ours = install_replace(options, "attn1", ("middle", 0), Ours)
    assert ours.inner is sag_like
    assert current_replace(options, "attn1", ("middle", 0)) is ours  # nothing shadows ours any more
    one = torch.ones(1)
    assert float(ours(one, one, one, {})) == 10.0  # ours ran the other one's attention


def test_without_one_ours_computes_the_attention_and_a_later_pass_override_still_wins():
    options = Options()
    ours = install_replace(options, "attn2", ("input", 4), Ours)
    assert ours.inner is None and float(ours(torch.ones(1), torch.ones(1), torch.ones(1), {})) == 30.0
    # PerturbedAttentionGuidance sets ("middle", 0) in a copy of the options for its own pass; ComfyUI's
    # lookup tries (block, id, 0) first, so ours must not sit there and shadow such an override.
    install_replace(options, "attn1", ("middle", 0), Ours)
    assert ("middle", 0, 0) not in options.model_options["transformer_options"]["patches_replace"]["attn1"]


def test_placed_inputs_move_in_place_and_are_shared_by_copies():
    inputs = Placed(bank={("input", 1): torch.zeros(1, 2, 3)}, levels=[(torch.zeros(1), torch.zeros(2))], size=(8, 8))
    assert inputs.to(torch.device("meta")) is inputs
    assert inputs.bank[("input", 1)].device.type == "meta" and inputs.levels[0][1].device.type == "meta"
    assert inputs.to(torch.float16).bank[("input", 1)].dtype == torch.float32
    assert copy.deepcopy(inputs) is inputs and inputs.size == (8, 8)


def test_patches_are_named_by_function_and_pack():
    assert describe(sag_like) == "sag_like (from test_model_patches)"
    assert describe(Ours(None)).startswith("Ours (from ")


def test_modules_comfyui_loads_from_files_are_named_by_package():
    def from_file():
        pass

    from_file.__module__ = "/opt/ComfyUI/comfy_extras/nodes_sag"
    assert module_of(from_file) == "comfy_extras.nodes_sag"
    assert describe(from_file).endswith("from_file (from comfy_extras.nodes_sag)")
