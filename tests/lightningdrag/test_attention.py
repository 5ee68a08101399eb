"""LightningDrag's attention terms as ComfyUI patches (drag/lightningdrag/attention.py) against a transcription of
the official processors, on a small diffusers UNet driven the way ComfyUI drives its own
(tests/unet_harness.py), and beside other packs' patches."""

import copy

import pytest
import torch

import unet_harness as H
from helpers import error_of
from drag_editing_dev.drag.comfy_protocol import Placed, install_replace
from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.lightningdrag.attention import PointEmbeds, sampling_patches
from drag_editing_dev.drag.lightningdrag.layout import TRANSFORMER_BLOCKS

from .common import LATENT, WIDTHS, attention_weights, bank_of, main_unet, ours
from .official import install_official, record_norm1


@torch.no_grad()
def test_recorded_bank_is_the_official_norm1_writer_output(parts):
    appearance, _, _, source, text, _ = parts
    bank = bank_of(appearance, source, text)
    official, hooks = record_norm1(appearance)
    appearance(source, 0, encoder_hidden_states=text)
    for hook in hooks:
        hook.remove()
    assert set(bank.states) == set(official)
    for key, value in official.items():
        torch.testing.assert_close(bank.states[key], value)


@torch.no_grad()
def test_patches_equal_the_official_processors_in_one_call_or_two(parts):
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    x = torch.randn(2, 9, *LATENT)  # two candidates
    cfg_batch = torch.cat([x, x])  # official layout: uncond candidates first, then cond
    tokens = weights.image_tokens(embeds, torch.device("cpu"))
    store = {"bank": bank.states, "levels": levels, "weights": weights, "uc_mask": torch.tensor([True, True, False, False])}
    install_official(unet, store)
    official = unet(cfg_batch, 500, encoder_hidden_states=torch.cat([text, tokens], 1).expand(4, -1, -1)).sample
    together = ours(unet, bank, levels, embeds, text, x, lambda x: [([1, 0], torch.cat([x, x]))], weights)
    torch.testing.assert_close(together, official, rtol=0, atol=2e-5)
    separate = ours(unet, bank, levels, embeds, text, x, lambda x: [([1], x), ([0], x)], weights)
    torch.testing.assert_close(separate, official, rtol=0, atol=2e-5)
    assert (official[:2] - official[2:]).abs().max() > 1e-3  # the point terms really act on the cond half


@torch.no_grad()
def test_zero_point_projection_makes_cond_equal_uncond_and_the_bank_matters(parts):
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731
    zero = attention_weights(
        {b.key: {"norm.weight": torch.ones(b.embed_dim), "norm.bias": torch.zeros(b.embed_dim),
                 "proj.weight": torch.zeros(WIDTHS[b.level], b.embed_dim)} for b in TRANSFORMER_BLOCKS},
        {"proj.weight": weights.image_proj.weight, "proj.bias": weights.image_proj.bias,
         "norm.weight": weights.image_norm.weight, "norm.bias": weights.image_norm.bias},
        {b.key: {"to_k_ip": weights.to_k_ip[str(b.processor_index)].weight, "to_v_ip": weights.to_v_ip[str(b.processor_index)].weight}
         for b in TRANSFORMER_BLOCKS},
    )
    out = ours(unet, bank, levels, embeds, text, x, both, zero)
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=0)
    # Zero embeddings still move the cond half: LN(0) is the LayerNorm bias, projected densely (as official).
    zero_levels = [(torch.zeros_like(h), torch.zeros_like(t)) for h, t in levels]
    out = ours(unet, bank, zero_levels, embeds, text, x, both, weights)
    assert (out[0] - out[1]).abs().max() > 1e-4
    # The uncond half never sees the points; the bank reaches both halves.
    with_points = ours(unet, bank, levels, embeds, text, x, both, weights)
    torch.testing.assert_close(with_points[0], out[0], rtol=0, atol=0)
    other_bank = bank_of(appearance, torch.randn_like(source), text)
    changed = ours(unet, other_bank, levels, embeds, text, x, both, weights)
    assert (changed - with_points).abs().amax(dim=(1, 2, 3)).min() > 1e-3


def test_bank_and_embeddings_of_another_size_are_refused(parts):
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    small = torch.randn(1, 9, 8, 8)
    with pytest.raises(DragInputError, match="Encode the same source image"):
        ours(unet, bank, levels, embeds, text, small, lambda x: [([0], x)], weights)


@torch.no_grad()
def test_another_packs_cross_attention_replacement_runs_inside_ours(parts):
    """An IPAdapter-style attn2 replacement (text attention plus its own image attention) keeps its term:
    ours adds IP-Adapter's image attention to what it returns, exactly the sum of both terms by hand."""
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731
    torch.manual_seed(5)
    extra_tokens = torch.randn(1, 4, 32)

    def other_pack(q, k, v, extra_options):
        return H.attention(q, k, v, extra_options) + 0.5 * H.attention(q, extra_tokens.expand(q.shape[0], -1, -1), extra_tokens.expand(q.shape[0], -1, -1), extra_options)

    chained = ours(unet, bank, levels, embeds, text, x, both, weights, inner2=other_pack)
    plain = ours(unet, bank, levels, embeds, text, x, both, weights)
    assert (chained - plain).abs().max() > 1e-4  # the other pack's term is there

    tokens = weights.image_tokens(embeds, torch.device("cpu"))

    def by_hand(q, k, v, extra_options):  # the other pack's output plus IP-Adapter's image attention, written out
        i = str(TRANSFORMER_BLOCKS[[b.key for b in TRANSFORMER_BLOCKS].index(tuple(extra_options["block"]))].processor_index)
        k_ip = torch.nn.functional.linear(tokens, weights.to_k_ip[i].weight).expand(q.shape[0], -1, -1)
        v_ip = torch.nn.functional.linear(tokens, weights.to_v_ip[i].weight).expand(q.shape[0], -1, -1)
        return other_pack(q, k, v, extra_options) + H.attention(q, k_ip, v_ip, extra_options)

    comfy = H.ComfyStyle(unet, LATENT)
    self_attention, _ = sampling_patches(weights, bank, PointEmbeds(levels, 128, 128, 2), embeds, H.attention, H.projections(unet))
    for key in self_attention:
        comfy.set_model_attn1_replace(self_attention[key](None), *key)
        comfy.set_model_attn2_replace(by_hand, *key)
    comfy.options["cond_or_uncond"] = [1, 0]
    expected = unet(torch.cat([x, x]), 500, encoder_hidden_states=text.expand(2, -1, -1)).sample
    torch.testing.assert_close(chained, expected, rtol=0, atol=2e-5)


@torch.no_grad()
def test_another_packs_self_attention_replacement_gets_our_keys(parts):
    """A self-attention replacement chained inside ours computes the attention from our q, k and v
    (bank and point terms included): with plain attention it is the official result."""
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731
    seen = []

    def other_pack(q, k, v, extra_options):
        seen.append((q.shape[1], k.shape[1]))
        return H.attention(q, k, v, extra_options)

    chained = ours(unet, bank, levels, embeds, text, x, both, weights, inner1=other_pack)
    torch.testing.assert_close(chained, ours(unet, bank, levels, embeds, text, x, both, weights), rtol=0, atol=0)
    assert len(seen) == 16 and all(k == 2 * q for q, k in seen)


@torch.no_grad()
def test_tokens_another_pack_appends_to_the_context_keep_their_keys(parts):
    """A reference-style attn1_patch that appends its own tokens to the context before our bank: the
    block's keys then run [own ; appended ; bank], the point terms stay on the own and bank parts, and
    the appended tokens take part in the attention."""
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731

    def reference(n, context, value, extra_options):
        extra = n[:, :3] * 0.5
        return n, torch.cat([context, extra], 1), torch.cat([value, extra], 1)

    out = ours(unet, bank, levels, embeds, text, x, both, weights, attn1_patches=[reference])
    assert out.shape == (2, 4, *LATENT) and bool(torch.isfinite(out).all())
    assert (out - ours(unet, bank, levels, embeds, text, x, both, weights)).abs().max() > 1e-5


def test_patches_move_their_inputs_once_and_copy_without_copying_tensors(parts):
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    self_attention, cross_attention = sampling_patches(weights, bank, PointEmbeds(levels, 128, 128, 2), embeds, H.attention, H.projections(unet), owners=("weights patcher",))
    moved = []

    class Foreign:  # another pack's replacement with its own protocol (IPAdapter's Attn2Replace has both)
        def to(self, target):
            moved.append(target)
            return self

        def models(self):
            return ["foreign model"]

    patches = [self_attention[("input", 1)](None), cross_attention[("input", 1)](Foreign())]
    assert patches[0].inputs is patches[1].inputs
    assert patches[1].to(torch.device("meta")) is patches[1] and patches[1].to(torch.float16) is patches[1]
    assert moved == [torch.device("meta"), torch.float16]  # the foreign patch gets both calls, as ComfyUI makes them
    assert patches[0].inputs.bank[("input", 1)].device.type == "meta"  # moved for every block at once
    assert patches[0].inputs.image_embeds.dtype == torch.float32  # a dtype call does not cast (weights may be fp8)
    assert patches[1].models() == ["weights patcher", "foreign model"]
    clone = copy.deepcopy(patches[1])
    assert clone is not patches[1] and clone.inputs is patches[1].inputs and clone.weights is patches[1].weights
    assert clone.inner is not patches[1].inner  # the foreign patch is copied as ComfyUI would copy it
    assert isinstance(patches[0].inputs, Placed)


@torch.no_grad()
def test_what_is_fixed_for_a_run_is_computed_once_and_dropped_when_the_inputs_move(parts):
    """The bank's keys and values, the point terms and IP-Adapter's image keys and values are the same at every
    step: made on the first model call, reused by every later call (cond and uncond together or apart), and
    made again only after ComfyUI moves the inputs (a new load) or the run ends."""
    appearance, weights, levels, source, text, embeds = parts
    bank = bank_of(appearance, source, text)
    unet = main_unet()
    counted = {"project": 0, "point_term": 0, "image": 0}
    projections = {key: (lambda r, f=f: counted.__setitem__("project", counted["project"] + 1) or f(r)) for key, f in H.projections(unet).items()}
    point_term, image_keys_values = weights.point_term, weights.image_keys_values
    weights.point_term = lambda *a: counted.__setitem__("point_term", counted["point_term"] + 1) or point_term(*a)
    weights.image_keys_values = lambda *a: counted.__setitem__("image", counted["image"] + 1) or image_keys_values(*a)
    try:
        comfy = H.ComfyStyle(unet, LATENT)
        self_attention, cross_attention = sampling_patches(weights, bank, PointEmbeds(levels, 128, 128, 2), embeds, H.attention, projections)
        for key in self_attention:
            install_replace(comfy, "attn1", key, self_attention[key])
            patch = install_replace(comfy, "attn2", key, cross_attention[key])
        x = torch.randn(1, 9, *LATENT)
        for chunks, batch in [([1, 0], torch.cat([x, x])), ([1], x), ([0], x), ([1, 0], torch.cat([x, x]))]:  # 3 steps
            comfy.options["cond_or_uncond"] = chunks
            unet(batch, 500, encoder_hidden_states=text.expand(batch.shape[0], -1, -1))
        assert counted == {"project": 16, "point_term": 32, "image": 16}
        patch.inputs.to("cpu")  # ComfyUI moves the inputs when it (re)loads the model
        unet(torch.cat([x, x]), 400, encoder_hidden_states=text.expand(2, -1, -1))
        assert counted == {"project": 32, "point_term": 64, "image": 32}
    finally:
        del weights.point_term, weights.image_keys_values


def test_each_block_takes_the_point_embedding_of_its_level_even_where_small_levels_are_all_one_pixel():
    """A 32×32 image: the point net's and the UNet's two deepest levels are both 1×1, so matching by size would give
    the middle block (level 3, 1024 channels) the level-2 embedding (512)."""
    from drag_editing_dev.drag.lightningdrag.attention import _level

    sizes = [(4, 4), (2, 2), (1, 1), (1, 1)]
    inputs = Placed(levels=[(torch.zeros(1, 8, *hw), torch.zeros(1, 8, *hw)) for hw in sizes], size=(32, 32))
    for block in TRANSFORMER_BLOCKS:
        assert _level(inputs, block.key, {"activations_shape": (2, 320, *sizes[block.level])}) == block.level
    middle = next(b for b in TRANSFORMER_BLOCKS if b.key[0] == "middle")
    msg = error_of(_level, inputs, middle.key, {"activations_shape": (2, 1280, 2, 2)})
    assert msg.startswith(f"point_embeds: UNet block {middle.key} works at (2, 2)") and "Run PointEmbed at the size" in msg
