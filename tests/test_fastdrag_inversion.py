"""FastDrag's schedule, inversion, sampling and K/V consistency against the official formulas (no ComfyUI).

The UNet is a tiny random SD1.5-layout diffusers model driven the way ComfyUI drives one
(tests/diffusers_harness.py); the official behaviour is transcribed from specs/fastdrag.md §1 and §5
or taken from diffusers' DDIMScheduler, which the official pipeline uses.
"""

import pytest
import torch

import diffusers_harness as H
from drag_editing_pack_under_test.drag.errors import DragInputError
from drag_editing_pack_under_test.drag.fastdrag.inversion import sample_fastdrag_inversion, vp_latent
from drag_editing_pack_under_test.drag.fastdrag.kv import ConsistencyPatch, KVRecorder, check_latent, check_schedule
from drag_editing_pack_under_test.drag.fastdrag.schedule import fastdrag_timesteps, inversion_step_count, leading_timesteps

STEPS, STRENGTH = 10, 0.7


# ---- schedule ------------------------------------------------------------------------------------


def test_default_timesteps_are_the_official_ones():
    assert leading_timesteps(10) == [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]
    assert fastdrag_timesteps(10, 0.7) == [601, 501, 401, 301, 201, 101, 1]


@pytest.mark.parametrize("steps", [10, 25, 30, 7, 50])
def test_leading_timesteps_equal_diffusers_ddim(steps):
    scheduler = H.official_scheduler()
    scheduler.set_timesteps(steps)
    assert leading_timesteps(steps) == scheduler.timesteps.tolist()


def test_inversion_step_count_uses_pythons_rounding_and_refuses_nothing_to_do():
    assert inversion_step_count(10, 0.7) == 7
    assert inversion_step_count(10, 0.25) == 2  # round(2.5) == 2, as in the official code
    with pytest.raises(DragInputError, match="inversion_strength: 0.01 × 10 steps gives 0"):
        inversion_step_count(10, 0.01)
    with pytest.raises(DragInputError, match="steps: 0 total steps"):
        inversion_step_count(0, 0.7)


# ---- the official loops, transcribed -------------------------------------------------------------


def official_inv_step(unet, z, context, scheduler, t):
    """DragPipeline.inv_step after the UNet call: the UNet sees the current latent at the next timestep t."""
    ac = scheduler.alphas_cumprod
    eps = unet(z, t, encoder_hidden_states=context).sample
    prev = t - 1000 // STEPS
    a_prev = ac[prev] if prev >= 0 else scheduler.final_alpha_cumprod
    x0 = (z - (1 - a_prev) ** 0.5 * eps) / a_prev**0.5
    return ac[t] ** 0.5 * x0 + (1 - ac[t]) ** 0.5 * eps


def official_invert(unet, z, context, scheduler, timesteps_up):
    for t in timesteps_up:
        z = official_inv_step(unet, z, context, scheduler, t)
    return z


def official_sample(unet, z, context, scheduler, timesteps_down):
    for t in timesteps_down:
        eps = unet(z, t, encoder_hidden_states=context).sample
        z = scheduler.step(eps, t, z, return_dict=False)[0]
    return z


@pytest.fixture
def setup():
    torch.manual_seed(0)
    unet = H.tiny_unet()
    scheduler = H.official_scheduler()
    scheduler.set_timesteps(STEPS)
    context = torch.randn(1, 77, H.CONTEXT_DIM)
    model = H.Denoiser(unet, context, scheduler)
    timesteps = fastdrag_timesteps(STEPS, STRENGTH)
    inversion_sigmas = torch.stack([model.sigma(0)] + [model.sigma(t) for t in reversed(timesteps)])
    sampling_sigmas = torch.stack([model.sigma(t) for t in timesteps] + [model.sigma(0)])
    return unet, scheduler, context, model, timesteps, inversion_sigmas, sampling_sigmas


@torch.no_grad()
def test_inversion_matches_the_official_inv_step_loop(setup):
    unet, scheduler, context, model, timesteps, inversion_sigmas, _ = setup
    z0 = torch.randn(1, 4, 16, 16)
    x = sample_fastdrag_inversion(model, z0, inversion_sigmas)
    assert model.calls == list(reversed(timesteps))  # 1, 101, ..., 601
    expected = official_invert(unet, z0, context, scheduler, reversed(timesteps))
    torch.testing.assert_close(vp_latent(x, inversion_sigmas[-1]), expected, rtol=0, atol=2e-5)


def test_inversion_keeps_no_autograd_graph_when_grad_is_on(setup):
    # Outside ComfyUI's inference mode, with weights that require grad (as ComfyUI loads them), a graph
    # chained through the steps would keep every step's activations alive (gigabytes at 512²).
    unet, _, _, model, _, inversion_sigmas, _ = setup
    unet.requires_grad_(True)
    with torch.enable_grad():
        x = sample_fastdrag_inversion(model, torch.randn(1, 4, 16, 16), inversion_sigmas)
    assert not x.requires_grad


@torch.no_grad()
def test_sampling_on_the_record_schedule_matches_diffusers_ddim(setup):
    unet, scheduler, context, model, timesteps, _, sampling_sigmas = setup
    z = torch.randn(1, 4, 16, 16)
    x = H.sample_euler(model, z * (1 + sampling_sigmas[0] ** 2).sqrt(), sampling_sigmas)
    assert model.calls == timesteps  # 601, 501, ..., 1, ending at alphas_cumprod[0]
    expected = official_sample(unet, z, context, scheduler, timesteps)
    torch.testing.assert_close(vp_latent(x, sampling_sigmas[-1]), expected, rtol=0, atol=2e-5)


# ---- K/V consistency -----------------------------------------------------------------------------


def _invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas, storage=None):
    recorder = KVRecorder(len(timesteps), storage)
    H.install(unet, lambda block: H.PatchedSelfAttention(block, [recorder], model.options))
    x = sample_fastdrag_inversion(model, z0, inversion_sigmas)
    kv = recorder.finish(
        timesteps=tuple(timesteps), sigmas=sampling_sigmas[:-1].clone(), final_sigma=float(sampling_sigmas[-1]),
        sigma_table=model.sigma_table, total_steps=STEPS, strength=STRENGTH, latent_shape=tuple(z0.shape),
    )
    return x, kv


def _sample_with(unet, model, kv, x, sampling_sigmas):
    patch = ConsistencyPatch(kv)
    outer_sample = patch.outer_sample
    H.install(unet, lambda block: H.PatchedSelfAttention(block, [patch], model.options))
    return outer_sample(lambda noise, latent, sampler, sigmas: H.sample_euler(model, x, sigmas), None, x, None, sampling_sigmas)


@torch.no_grad()
def test_record_holds_every_decoder_self_attention_in_sampling_order(setup):
    unet, _, _, model, timesteps, inversion_sigmas, sampling_sigmas = setup
    z0 = torch.randn(2, 4, 16, 16)
    _, kv = _invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    assert sorted(kv.states) == [(i, 0) for i in range(3, 12)]  # ComfyUI output blocks 3-11
    assert kv.states[(3, 0)].shape == (7, 2, 16, 32) and kv.states[(11, 0)].shape == (7, 2, 256, 32)
    assert kv.nbytes == 7 * 2 * 3 * (16 + 64 + 256) * 32 * 4
    # Slot 0 is timestep 601, the last inversion step: re-record with one step fewer and compare.
    shorter = fastdrag_timesteps(STEPS, 0.6)
    _, kv6 = _invert_and_record(unet, model, z0, shorter, inversion_sigmas[:-1], sampling_sigmas[1:])
    torch.testing.assert_close(kv.states[(5, 0)][1:], kv6.states[(5, 0)], rtol=0, atol=0)


@torch.no_grad()
def test_kv_patch_gives_what_the_official_kv_replacement_gives(setup):
    unet, scheduler, context, model, timesteps, inversion_sigmas, sampling_sigmas = setup
    z0 = torch.randn(1, 4, 16, 16)
    x, kv = _invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    ours = vp_latent(_sample_with(unet, model, kv, x, sampling_sigmas), sampling_sigmas[-1])

    # The official processor keys K/V by the index of the timestep in the full schedule, in both passes.
    store, state = {}, {"mode": "save"}
    H.install(unet, lambda block: H.OfficialKVProcessor(store, block, state))
    index = leading_timesteps(STEPS).index
    z = z0
    for t in reversed(timesteps):
        state["iter"] = index(t)
        z = official_inv_step(unet, z, context, scheduler, t)
    state["mode"] = "use"
    for t in timesteps:
        state["iter"] = index(t)
        z = official_sample(unet, z, context, scheduler, [t])
    torch.testing.assert_close(ours, z, rtol=0, atol=2e-5)


def _sharpen_self_attention(unet, factor=10.0):
    """Scale the decoder self-attention query/key weights: random weights give near-uniform attention,
    where keys and values hardly matter; trained models attend sharply."""
    for _, attn1 in H.decoder_self_attentions(unet):
        attn1.to_q.weight.mul_(factor)
        attn1.to_k.weight.mul_(factor)


@pytest.mark.parametrize("seed", [0, 1, 2])
@torch.no_grad()
def test_consistency_reconstructs_an_identity_drag_closer(seed):
    # Measured on this tiny random UNet (z0 ~ N(0, 1), 16² latent): mean |error| 0.12-0.14 with the
    # K/V injection against 0.14-0.17 without; the bounds below leave a margin.
    torch.manual_seed(seed)
    unet = H.tiny_unet(seed)
    _sharpen_self_attention(unet)
    scheduler = H.official_scheduler()
    model = H.Denoiser(unet, torch.randn(1, 77, H.CONTEXT_DIM), scheduler)
    timesteps = fastdrag_timesteps(STEPS, STRENGTH)
    inversion_sigmas = torch.stack([model.sigma(0)] + [model.sigma(t) for t in reversed(timesteps)])
    sampling_sigmas = torch.stack([model.sigma(t) for t in timesteps] + [model.sigma(0)])
    z0 = torch.randn(1, 4, 16, 16)
    x, kv = _invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    with_kv = (vp_latent(_sample_with(unet, model, kv, x, sampling_sigmas), sampling_sigmas[-1]) - z0).abs().mean()
    H.install(unet, lambda block: H.PatchedSelfAttention(block, [], model.options))
    without = (vp_latent(H.sample_euler(model, x, sampling_sigmas), sampling_sigmas[-1]) - z0).abs().mean()
    assert with_kv < 0.16
    assert with_kv < 0.95 * without, (float(with_kv), float(without))


# ---- the patch in ComfyUI's batching -------------------------------------------------------------


def _tiny_record(batch=2, steps=3, positions=4, channels=5, storage=None):
    recorder = KVRecorder(steps, storage)
    sigmas = torch.tensor([3.0, 2.0, 1.0])
    for i, sigma in enumerate(reversed(sigmas)):  # inversion order: lowest sigma first
        n = torch.full((batch, positions, channels), float(i)) + torch.arange(batch)[:, None, None] * 10
        recorder(n, n, n, {"block": ("output", 4), "block_index": 0, "sigmas": sigma.expand(batch), "cond_or_uncond": [0]})
    kv = recorder.finish(
        timesteps=(300, 200, 100), sigmas=sigmas, final_sigma=0.03, sigma_table=torch.linspace(0.03, 15, 1000),
        total_steps=10, strength=0.3, latent_shape=(batch, 4, 2, 2),
    )
    return kv


def test_recorder_keeps_only_the_positive_chunk_and_only_decoder_blocks():
    recorder = KVRecorder(1)
    n = torch.cat([torch.zeros(2, 4, 5), torch.ones(2, 4, 5)])  # uncond chunk first, as ComfyUI may order them
    recorder(n, n, n, {"block": ("output", 4), "sigmas": torch.ones(4), "cond_or_uncond": [1, 0]})
    recorder(n, n, n, {"block": ("input", 4), "sigmas": torch.ones(4), "cond_or_uncond": [1, 0]})
    recorder(n[:2], n[:2], n[:2], {"block": ("output", 5), "sigmas": torch.ones(2), "cond_or_uncond": [1]})
    assert list(recorder.states) == [(4, 0)]
    assert bool((recorder.states[(4, 0)] == 1).all())


@pytest.mark.parametrize("chunks", [[0], [1], [0, 1], [1, 0]])
def test_patch_gives_every_chunk_the_record_of_the_current_step(chunks):
    kv = _tiny_record()
    patch = ConsistencyPatch(kv)
    n = torch.randn(2 * len(chunks), 4, 5)
    _, context, value = patch(n, n, n, {"block": ("output", 4), "block_index": 0, "sigmas": torch.full((n.shape[0],), 2.0), "cond_or_uncond": chunks})
    assert context is value
    expected = kv.states[(4, 0)][1]  # sigma 2.0 is the second step in sampling order
    assert torch.equal(context, expected.repeat(len(chunks), 1, 1))
    assert torch.equal(expected[:, 0, 0], torch.tensor([1.0, 11.0]))  # batch order kept


def test_patch_leaves_other_blocks_alone():
    patch = ConsistencyPatch(_tiny_record())
    n = torch.randn(2, 4, 5)
    for block in (("input", 4), ("middle", 0), ("output", 9)):
        out = patch(n, n, n, {"block": block, "sigmas": torch.ones(2), "cond_or_uncond": [0]})
        assert all(t is n for t in out)


def test_offloaded_record_is_used_the_same_way():
    kv = _tiny_record(storage="cpu")
    patch = ConsistencyPatch(kv)
    n = torch.randn(2, 4, 5)
    _, context, _ = patch(n, n, n, {"block": ("output", 4), "sigmas": torch.full((2,), 3.0), "cond_or_uncond": [0]})
    assert torch.equal(context, kv.states[(4, 0)][0])


# ---- checks around a sampling run ----------------------------------------------------------------


def test_run_checks_the_schedule_before_and_every_evaluation_after():
    kv = _tiny_record()
    patch = ConsistencyPatch(kv)
    outer_sample = patch.outer_sample
    n = torch.randn(2, 4, 5)

    def run(sigmas, evaluated, latent_shape=(2, 4, 2, 2)):
        """One sampling run whose sampler evaluates the model at the sigmas ``evaluated``."""
        def executor(noise, latent, sampler, sigmas):
            for sigma in evaluated:
                patch(n, n, n, {"block": ("output", 4), "sigmas": torch.full((2,), sigma), "cond_or_uncond": [0]})
            return latent
        return outer_sample(executor, None, torch.zeros(latent_shape), None, sigmas)

    good = torch.tensor([3.0, 2.0, 1.0, 0.0])
    run(good, [3.0, 2.0, 1.0])
    with pytest.raises(DragInputError, match=r"steps are at timesteps .* but the K/V were recorded at timesteps \[300, 200, 100\]"):
        run(torch.tensor([2.5, 2.0, 1.0, 0.0]), [])
    with pytest.raises(DragInputError, match="evaluated the model between the recorded steps"):
        run(good, [3.0, 2.4, 2.0, 1.0])  # a second-order sampler's midpoint
    run(good, [3.0, 2.0, 1.0])  # the failed run left no state behind
    with pytest.raises(DragInputError, match="has none of the self-attention layers"):
        run(good, [])
    with pytest.raises(DragInputError, match=r"latent: 1 latent\(s\) of 2×2, but the DRAG_KV was recorded"):
        run(good, [3.0], latent_shape=(1, 4, 2, 2))


def test_patch_refuses_a_latent_of_another_size():
    patch = ConsistencyPatch(_tiny_record())
    n = torch.randn(2, 9, 5)
    with pytest.raises(DragInputError, match="gets 2 latent\\(s\\) with 9 positions .* holds 2 with 4 positions"):
        patch(n, n, n, {"block": ("output", 4), "sigmas": torch.ones(2), "cond_or_uncond": [0]})


def test_model_without_decoder_self_attention_is_refused():
    with pytest.raises(DragInputError, match="no self-attention in its decoder"):
        KVRecorder(3).finish()


def test_check_helpers_accept_what_fits():
    kv = _tiny_record()
    check_latent(kv, (2, 4, 2, 2))
    check_schedule(kv, torch.tensor([2.0, 1.0, 0.03]))  # a later start (KSamplerAdvanced start_at_step)
