"""LightningDrag's method code against the spec and a transcription of the official processors (no ComfyUI)."""

from __future__ import annotations

import pickle
from collections import OrderedDict

import pytest
import torch
from diffusers import DDIMScheduler, UNet2DConditionModel

import lightning_harness as H
import lightningdrag_files as files
from drag_editing_pack_under_test.drag.errors import DragInputError
from drag_editing_pack_under_test.drag.lightningdrag import release
from drag_editing_pack_under_test.drag.lightningdrag.attention import (
    AppearanceRecorder, DragAttentionWeights, PointEmbeds, sampling_patches,
)
from drag_editing_pack_under_test.drag.model_patches import Placed
from drag_editing_pack_under_test.drag.lightningdrag.guidance import point_cfg_function, point_guidance_scale
from drag_editing_pack_under_test.drag.lightningdrag.layout import TRANSFORMER_BLOCKS
from drag_editing_pack_under_test.drag.lightningdrag.noise_prior import noise_prior
from drag_editing_pack_under_test.drag.lightningdrag.point_net import PointEmbeddingNet, embed_points, index_maps
from drag_editing_pack_under_test.drag.points import DragPoints

WIDTHS = (32, 32, 32, 32)
LATENT = (16, 16)  # a 128×128 image


# ---- layout, point network, index maps -----------------------------------------------------------


def test_layout_pairs_comfy_blocks_with_the_official_processor_indices():
    by_index = {b.processor_index: b for b in TRANSFORMER_BLOCKS}
    assert sorted(by_index) == list(range(0, 32, 2))
    assert {i for i, b in by_index.items() if b.embed_dim == 128} == {0, 2, 24, 26, 28}
    assert {i for i, b in by_index.items() if b.embed_dim == 256} == {4, 6, 18, 20, 22}
    assert {i for i, b in by_index.items() if b.embed_dim == 512} == {8, 10, 12, 14, 16}
    assert by_index[30].key == ("middle", 0) and by_index[30].embed_dim == 1024
    assert by_index[0].key == ("input", 1) and by_index[12].key == ("output", 3) and by_index[28].key == ("output", 11)


def test_point_network_has_the_official_keys_shapes_and_outputs():
    with torch.device("meta"):
        net = PointEmbeddingNet()
        levels = net(torch.zeros(1, 2, 512, 512))
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert len(shapes) == 13 and shapes["conv_in.weight"] == (32, 2, 3, 3)
    assert shapes["downsample_blocks_vae.2.conv2.weight"] == (256, 256, 3, 3)
    assert shapes["downsample_blocks_unet.0.conv1.weight"] == (512, 256, 3, 3)
    assert shapes["downsample_blocks_unet.2.conv2.weight"] == (2048, 2048, 3, 3)
    assert sum(v.numel() for v in net.parameters()) == pytest.approx(75.48e6, rel=1e-3)
    assert [tuple(h.shape) for h, _ in levels] == [(1, 128, 64, 64), (1, 256, 32, 32), (1, 512, 16, 16), (1, 1024, 8, 8)]


def test_index_maps_put_the_pair_number_on_one_pixel_per_point():
    points = DragPoints.from_pairs([((10.7, 3.2), (20.0, 5.9)), ((1.0, 1.0), (20.9, 5.1))], 32, 16)
    maps = index_maps(points)
    assert maps.shape == (1, 2, 16, 32)
    handles, targets = maps[0]
    assert handles[3, 10] == 1 and handles[1, 1] == 2 and int((handles != 0).sum()) == 2
    assert targets[5, 20] == 2 and int((targets != 0).sum()) == 1  # both targets truncate to (20, 5): the later pair wins


def test_point_embeddings_split_each_level_into_handle_and_target_halves():
    torch.manual_seed(0)
    net = PointEmbeddingNet()
    points = DragPoints.from_pairs([((40, 40), (80, 60))], 128, 96)
    levels = embed_points(net, points, torch.float32, torch.device("cpu"))
    whole = net.downsample_blocks_vae(net.conv_in(index_maps(points)))
    torch.testing.assert_close(torch.cat(levels[0], dim=1), whole)
    assert [tuple(h.shape[-2:]) for h, _ in levels] == [(12, 16), (6, 8), (3, 4), (2, 2)]


# ---- guidance and noise prior --------------------------------------------------------------------


def test_inv_square_decay_gives_the_spec_examples():
    s25 = [point_guidance_scale("inv_square", 4.0, i, 25) for i in range(25)]
    # The spec lists 4.00, 3.77, 3.54, 3.32, 3.12; its 3.77 is 3.7648 rounded up (3 · 0.96² + 1).
    assert s25[:5] == pytest.approx([4.00, 3.7648, 3.5392, 3.3232, 3.1168], abs=1e-12)
    assert [round(s, 2) for s in s25[-3:-1]] == [1.04, 1.02] and s25[-1] == pytest.approx(1.0048)
    s8 = [point_guidance_scale("inv_square", 3.0, i, 8) for i in range(8)]
    assert s8 == pytest.approx([3.00, 2.53, 2.13, 1.78, 1.50, 1.28, 1.13, 1.03], abs=0.0051)  # the spec's 2-digit values


@pytest.mark.parametrize("decay", ["none", "linear", "square", "cubic", "inv_square"])
def test_decays_equal_the_official_formulas(decay):
    s, n = 3.5, 10
    official = {
        "none": lambda i: s,
        "linear": lambda i: s * (1.0 - i / n) + 1.0 * i / n,
        "square": lambda i: s * (1.0 - (i / n) ** 2) + 1.0 * (i / n) ** 2,
        "cubic": lambda i: s * (1.0 - (i / n) ** 3) + 1.0 * (i / n) ** 3,
        "inv_square": lambda i: (s - 1.0) * (1.0 - i / n) ** 2 + 1,
    }[decay]
    for i in range(n):
        assert point_guidance_scale(decay, s, i, n) == pytest.approx(official(i), abs=1e-12)


def test_cfg_function_uses_the_step_index_of_the_current_sigma():
    sigmas = torch.tensor([14.6, 7.5, 4.3, 2.6, 0.0])
    cfg = point_cfg_function(4.0, "inv_square")
    cond, uncond = torch.full((2, 4, 3, 3), 2.0), torch.full((2, 4, 3, 3), 1.0)
    for i in range(4):
        args = {"cond": cond, "uncond": uncond, "sigma": sigmas[i].repeat(2),
                "model_options": {"transformer_options": {"sample_sigmas": sigmas}}}
        expected = 1.0 + point_guidance_scale("inv_square", 4.0, i, 4) * 1.0
        torch.testing.assert_close(cfg(args), torch.full_like(cond, expected))


def test_cfg_function_already_on_the_model_runs_at_the_decayed_scale():
    """Another node's CFG function (RescaleCFG-like) keeps its formula and gets our per-step scale."""
    sigmas = torch.tensor([14.6, 7.5, 4.3, 2.6, 0.0])
    seen = []

    def other(args):  # a CFG formula of another node: here plain CFG plus a marker
        seen.append(float(args["cond_scale"]))
        return args["uncond"] + args["cond_scale"] * (args["cond"] - args["uncond"]) + 100.0

    cfg = point_cfg_function(4.0, "inv_square", other)
    cond, uncond = torch.full((1, 4, 2, 2), 2.0), torch.full((1, 4, 2, 2), 1.0)
    for i in range(4):
        args = {"cond": cond, "uncond": uncond, "cond_scale": 4.0, "sigma": sigmas[i].reshape(1),
                "model_options": {"transformer_options": {"sample_sigmas": sigmas}}}
        expected = 1.0 + point_guidance_scale("inv_square", 4.0, i, 4) + 100.0
        torch.testing.assert_close(cfg(args), torch.full_like(cond, expected))
    assert seen == pytest.approx([point_guidance_scale("inv_square", 4.0, i, 4) for i in range(4)])


def test_unknown_decay_is_named():
    with pytest.raises(DragInputError, match="decay: 'fast' is not a decay schedule; use one of none, linear"):
        point_guidance_scale("fast", 4.0, 0, 10)


def test_noise_prior_is_the_official_add_noise_at_999_read_at_the_first_sigma():
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    ac = scheduler.alphas_cumprod.double()
    sigma = ((1 - ac) / ac).sqrt()
    z, eps = torch.randn(2, 4, 8, 8, dtype=torch.float64), torch.randn(2, 4, 8, 8, dtype=torch.float64)
    official = scheduler.add_noise(z, eps, torch.tensor([999]))
    x = noise_prior(z, eps, float(sigma[999]), float(sigma[961]))
    torch.testing.assert_close(x / (1 + sigma[961] ** 2).sqrt(), official.double(), rtol=0, atol=1e-6)
    # In ComfyUI's units this is 0.800·z + 11.691·ε at t = 961 (spec §1.5).
    assert float(x.flatten()[0]) == pytest.approx(float(0.800 * z.flatten()[0] + 11.691 * eps.flatten()[0]), abs=2e-3 * (1 + abs(float(eps.flatten()[0]))) * 12)


# ---- release files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lightning_drag")
    files.write_release(folder / "lightning-drag-sd15", WIDTHS)
    files.write_ip_adapter(folder / "ip-adapter_sd15.bin", WIDTHS)
    return folder


def _error(fn, *args):
    with pytest.raises(DragInputError) as info:
        fn(*args)
    return str(info.value)


def test_release_files_in_the_official_formats_load(release_dir):
    root = release_dir / "lightning-drag-sd15"
    state, widths = release.read_appearance_encoder(root / release.APPEARANCE_FILE, "W")
    assert widths == WIDTHS and not set(release.APPEARANCE_ABSENT_KEYS) & set(state)
    assert len(release.APPEARANCE_ABSENT_KEYS) == 24
    assert len(release.read_point_embedding(root / release.POINT_EMBEDDING_FILE, "W")) == 13
    attention = release.read_point_attention(root / release.ATTENTION_FILE, widths, "W")
    assert attention[("middle", 0)]["proj.weight"].shape == (32, 1024) and attention[("input", 1)]["proj.weight"].dtype == torch.float16
    projection, layers = release.read_ip_adapter(release_dir / "ip-adapter_sd15.bin", widths, "W")
    assert projection["proj.weight"].shape == (3072, 1024) and layers[("output", 11)]["to_k_ip"].shape == (32, 768)


def test_full_size_appearance_key_list_is_the_sd15_unet_without_the_24_keys():
    keys = release.expected_appearance_keys((320, 640, 1280, 1280))
    assert keys["conv_in.weight"] == (320, 4, 3, 3)
    assert keys["down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"] == (320, 320)
    assert "up_blocks.3.attentions.2.transformer_blocks.0.norm1.weight" in keys
    assert len(keys) == 686 - 24


def test_bad_release_files_are_refused_with_the_file_and_the_fix(release_dir, tmp_path):
    root = release_dir / "lightning-drag-sd15"
    where = "Put it in models/lightning_drag/."
    msg = _error(release.read_point_embedding, tmp_path / "nothing.pt", where)
    assert "nothing.pt: file not found" in msg and where in msg
    # A missing key, a wrong shape, another format.
    state = torch.load(root / release.POINT_EMBEDDING_FILE, weights_only=True)
    del state["conv_in.weight"]
    torch.save(state, tmp_path / "missing.pt")
    assert "1 expected key(s) missing, e.g. ['conv_in.weight']" in _error(release.read_point_embedding, tmp_path / "missing.pt", where)
    attn = files.point_attention_state(WIDTHS)
    attn["30.proj.weight"] = torch.zeros(64, 1024)
    torch.save(attn, tmp_path / "shape.bin")
    msg = _error(release.read_point_attention, tmp_path / "shape.bin", WIDTHS, where)
    assert "key 30.proj.weight has shape [64, 1024], expected [32, 1024]" in msg
    assert "not a readable safetensors file" in _error(release.read_appearance_encoder, root / release.ATTENTION_FILE, where)
    assert "is not the expected file" in _error(release.read_point_embedding, root / release.APPEARANCE_FILE, where)
    (tmp_path / "text.pt").write_text("not weights")
    assert "cannot be read as a PyTorch state dict" in _error(release.read_point_embedding, tmp_path / "text.pt", where)
    assert "top-level keys" in _error(release.read_ip_adapter, root / release.ATTENTION_FILE, WIDTHS, where)
    # The main UNet (9 channels) given as the appearance encoder.
    nine = {"conv_in.weight": torch.zeros(32, 9, 3, 3)} | {f"down_blocks.{i}.resnets.0.conv1.weight": torch.zeros(32, 32, 3, 3) for i in range(4)}
    from safetensors.torch import save_file
    save_file(nine, str(tmp_path / "nine.safetensors"))
    assert "9 input channels" in _error(release.read_appearance_encoder, tmp_path / "nine.safetensors", where)


class _Payload:
    def __reduce__(self):
        return (print, ("unpickled arbitrary code",))


def test_pickles_are_never_unpickled_beyond_tensors(tmp_path, capsys):
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump(OrderedDict(x=_Payload()), f, protocol=2)
    assert "cannot be read as a PyTorch state dict" in _error(release.read_point_embedding, tmp_path / "evil.pt", "W")
    assert "unpickled arbitrary code" not in capsys.readouterr().out


# ---- attention: appearance bank, point terms, IP-Adapter -----------------------------------------


def _main_unet(seed=1):
    torch.manual_seed(seed)
    config = release.appearance_config(WIDTHS) | {"in_channels": 9}
    return UNet2DConditionModel(**config).eval()


@pytest.fixture(scope="module")
def parts(release_dir):
    root = release_dir / "lightning-drag-sd15"
    appearance = files.appearance_unet(WIDTHS)
    weights = DragAttentionWeights(WIDTHS).load(
        release.read_point_attention(root / release.ATTENTION_FILE, WIDTHS, "W"),
        *release.read_ip_adapter(release_dir / "ip-adapter_sd15.bin", WIDTHS, "W"),
    ).float()
    net = PointEmbeddingNet()
    net.load_state_dict(release.read_point_embedding(root / release.POINT_EMBEDDING_FILE, "W"))
    points = DragPoints.from_pairs([((40, 50), (70, 52)), ((90, 90), (88, 60))], 128, 128)
    levels = embed_points(net, points, torch.float32, torch.device("cpu"))
    torch.manual_seed(2)
    source = torch.randn(1, 4, *LATENT)
    text = torch.randn(1, 77, 768)
    tokens = weights.image_tokens(torch.randn(1, 1024))
    return appearance, weights, levels, source, text, tokens


@torch.no_grad()
def _bank(appearance, source, text):
    state = H.install_comfy_style(appearance, LATENT)
    recorder = AppearanceRecorder()
    state.attn1_patches.append(recorder)
    appearance(source, 0, encoder_hidden_states=text)
    return recorder.bank(tuple(source.shape))


@torch.no_grad()
def test_recorded_bank_is_the_official_norm1_writer_output(parts):
    appearance, _, _, source, text, _ = parts
    bank = _bank(appearance, source, text)
    official, hooks = H.record_norm1(appearance)
    appearance(source, 0, encoder_hidden_states=text)
    for hook in hooks:
        hook.remove()
    assert set(bank.states) == set(official)
    for key, value in official.items():
        torch.testing.assert_close(bank.states[key], value)


@torch.no_grad()
def _ours(unet, bank, levels, tokens, text, x, chunks, weights, inner1=None, inner2=None, attn1_patches=()):
    """Our patches on ``unet`` driven the ComfyUI way, chaining ``inner1`` / ``inner2`` (another pack's
    replacements) and after ``attn1_patches`` (another pack's patches)."""
    state = H.install_comfy_style(unet, LATENT)
    self_attention, cross_attention = sampling_patches(weights, bank, PointEmbeds(levels, 128, 128, 2), tokens, H.attention, H.projections(unet))
    state.attn1_patches.extend(attn1_patches)
    for key in self_attention:
        state.attn1_replace[key] = self_attention[key](inner1)
        state.attn2_replace[key] = cross_attention[key](inner2)
    outs = []
    for chunk_kinds, batch in chunks(x):
        state.options["cond_or_uncond"] = chunk_kinds
        outs.append(unet(batch, 500, encoder_hidden_states=text.expand(batch.shape[0], -1, -1)).sample)
    return torch.cat(outs)


@torch.no_grad()
def test_patches_equal_the_official_processors_in_one_call_or_two(parts):
    appearance, weights, levels, source, text, tokens = parts
    bank = _bank(appearance, source, text)
    unet = _main_unet()
    x = torch.randn(2, 9, *LATENT)  # two candidates
    cfg_batch = torch.cat([x, x])  # official layout: uncond candidates first, then cond
    store = {"bank": bank.states, "levels": levels, "weights": weights, "uc_mask": torch.tensor([True, True, False, False])}
    H.install_official(unet, store)
    official = unet(cfg_batch, 500, encoder_hidden_states=torch.cat([text, tokens], 1).expand(4, -1, -1)).sample
    together = _ours(unet, bank, levels, tokens, text, x, lambda x: [([1, 0], torch.cat([x, x]))], weights)
    torch.testing.assert_close(together, official, rtol=0, atol=2e-5)
    separate = _ours(unet, bank, levels, tokens, text, x, lambda x: [([1], x), ([0], x)], weights)
    torch.testing.assert_close(separate, official, rtol=0, atol=2e-5)
    assert (official[:2] - official[2:]).abs().max() > 1e-3  # the point terms really act on the cond half


@torch.no_grad()
def test_zero_point_projection_makes_cond_equal_uncond_and_the_bank_matters(parts):
    appearance, weights, levels, source, text, tokens = parts
    bank = _bank(appearance, source, text)
    unet = _main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731
    zero = DragAttentionWeights(WIDTHS).load(
        {b.key: {"norm.weight": torch.ones(b.embed_dim), "norm.bias": torch.zeros(b.embed_dim),
                 "proj.weight": torch.zeros(WIDTHS[b.level], b.embed_dim)} for b in TRANSFORMER_BLOCKS},
        {"proj.weight": weights.image_proj.weight, "proj.bias": weights.image_proj.bias,
         "norm.weight": weights.image_norm.weight, "norm.bias": weights.image_norm.bias},
        {b.key: {"to_k_ip": weights.to_k_ip[str(b.processor_index)].weight, "to_v_ip": weights.to_v_ip[str(b.processor_index)].weight}
         for b in TRANSFORMER_BLOCKS},
    )
    out = _ours(unet, bank, levels, tokens, text, x, both, zero)
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=0)
    # Zero embeddings still move the cond half: LN(0) is the LayerNorm bias, projected densely (as official).
    zero_levels = [(torch.zeros_like(h), torch.zeros_like(t)) for h, t in levels]
    out = _ours(unet, bank, zero_levels, tokens, text, x, both, weights)
    assert (out[0] - out[1]).abs().max() > 1e-4
    # The uncond half never sees the points; the bank reaches both halves.
    with_points = _ours(unet, bank, levels, tokens, text, x, both, weights)
    torch.testing.assert_close(with_points[0], out[0], rtol=0, atol=0)
    other_bank = _bank(appearance, torch.randn_like(source), text)
    changed = _ours(unet, other_bank, levels, tokens, text, x, both, weights)
    assert (changed - with_points).abs().amax(dim=(1, 2, 3)).min() > 1e-3


def test_bank_and_embeddings_of_another_size_are_refused(parts):
    appearance, weights, levels, source, text, tokens = parts
    bank = _bank(appearance, source, text)
    unet = _main_unet()
    small = torch.randn(1, 9, 8, 8)
    with pytest.raises(DragInputError, match="Encode the same source image"):
        _ours(unet, bank, levels, tokens, text, small, lambda x: [([0], x)], weights)


# ---- composition with other packs' patches --------------------------------------------------------


@torch.no_grad()
def test_another_packs_cross_attention_replacement_runs_inside_ours(parts):
    """An IPAdapter-style attn2 replacement (text attention plus its own image attention) keeps its term:
    ours adds IP-Adapter's image attention to what it returns, exactly the sum of both terms by hand."""
    appearance, weights, levels, source, text, tokens = parts
    bank = _bank(appearance, source, text)
    unet = _main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731
    torch.manual_seed(5)
    extra_tokens = torch.randn(1, 4, 32)

    def other_pack(q, k, v, extra_options):
        return H.attention(q, k, v, extra_options) + 0.5 * H.attention(q, extra_tokens.expand(q.shape[0], -1, -1), extra_tokens.expand(q.shape[0], -1, -1), extra_options)

    chained = _ours(unet, bank, levels, tokens, text, x, both, weights, inner2=other_pack)
    plain = _ours(unet, bank, levels, tokens, text, x, both, weights)
    assert (chained - plain).abs().max() > 1e-4  # the other pack's term is there

    def by_hand(q, k, v, extra_options):  # the other pack's output plus IP-Adapter's image attention, written out
        i = str(TRANSFORMER_BLOCKS[[b.key for b in TRANSFORMER_BLOCKS].index(tuple(extra_options["block"]))].processor_index)
        k_ip = torch.nn.functional.linear(tokens, weights.to_k_ip[i].weight).expand(q.shape[0], -1, -1)
        v_ip = torch.nn.functional.linear(tokens, weights.to_v_ip[i].weight).expand(q.shape[0], -1, -1)
        return other_pack(q, k, v, extra_options) + H.attention(q, k_ip, v_ip, extra_options)

    state = H.install_comfy_style(unet, LATENT)
    self_attention, _ = sampling_patches(weights, bank, PointEmbeds(levels, 128, 128, 2), tokens, H.attention, H.projections(unet))
    for key in self_attention:
        state.attn1_replace[key] = self_attention[key](None)
        state.attn2_replace[key] = by_hand
    state.options["cond_or_uncond"] = [1, 0]
    expected = unet(torch.cat([x, x]), 500, encoder_hidden_states=text.expand(2, -1, -1)).sample
    torch.testing.assert_close(chained, expected, rtol=0, atol=2e-5)


@torch.no_grad()
def test_another_packs_self_attention_replacement_gets_our_keys(parts):
    """A self-attention replacement chained inside ours computes the attention from our q, k and v
    (bank and point terms included): with plain attention it is the official result."""
    appearance, weights, levels, source, text, tokens = parts
    bank = _bank(appearance, source, text)
    unet = _main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731
    seen = []

    def other_pack(q, k, v, extra_options):
        seen.append((q.shape[1], k.shape[1]))
        return H.attention(q, k, v, extra_options)

    chained = _ours(unet, bank, levels, tokens, text, x, both, weights, inner1=other_pack)
    torch.testing.assert_close(chained, _ours(unet, bank, levels, tokens, text, x, both, weights), rtol=0, atol=0)
    assert len(seen) == 16 and all(k == 2 * q for q, k in seen)


@torch.no_grad()
def test_tokens_another_pack_appends_to_the_context_keep_their_keys(parts):
    """A reference-style attn1_patch that appends its own tokens to the context before our bank: the
    block's keys then run [own ; appended ; bank], the point terms stay on the own and bank parts, and
    the appended tokens take part in the attention."""
    appearance, weights, levels, source, text, tokens = parts
    bank = _bank(appearance, source, text)
    unet = _main_unet()
    x = torch.randn(1, 9, *LATENT)
    both = lambda x: [([1, 0], torch.cat([x, x]))]  # noqa: E731

    def reference(n, context, value, extra_options):
        extra = n[:, :3] * 0.5
        return n, torch.cat([context, extra], 1), torch.cat([value, extra], 1)

    out = _ours(unet, bank, levels, tokens, text, x, both, weights, attn1_patches=[reference])
    assert out.shape == (2, 4, *LATENT) and bool(torch.isfinite(out).all())
    assert (out - _ours(unet, bank, levels, tokens, text, x, both, weights)).abs().max() > 1e-5


def test_patches_move_their_inputs_once_and_copy_without_copying_tensors(parts):
    import copy

    appearance, weights, levels, source, text, tokens = parts
    bank = _bank(appearance, source, text)
    unet = _main_unet()
    self_attention, cross_attention = sampling_patches(weights, bank, PointEmbeds(levels, 128, 128, 2), tokens, H.attention, H.projections(unet), owners=("weights patcher",))
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
    assert patches[0].inputs.image_tokens.dtype == torch.float32  # a dtype call does not cast (weights may be fp8)
    assert patches[1].models() == ["weights patcher", "foreign model"]
    clone = copy.deepcopy(patches[1])
    assert clone is not patches[1] and clone.inputs is patches[1].inputs and clone.weights is patches[1].weights
    assert clone.inner is not patches[1].inner  # the foreign patch is copied as ComfyUI would copy it
    assert isinstance(patches[0].inputs, Placed)
