"""FastDrag's K/V consistency (drag/fastdrag/kv.py): the record, the patch in ComfyUI's batching, the checks
around a sampling run, and the official K/V replacement it reproduces."""

import pytest
import torch

import unet_harness as H
from drag_editing_dev.drag.schedule import vp_latent
from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.fastdrag.kv import ConsistencyPatch, KVRecorder, check_latent, check_schedule
from drag_editing_dev.drag.schedule import fastdrag_timesteps, leading_timesteps

from .common import comfy_style, invert_and_record, sample_with, schedules, sharpen_self_attention
from .conftest import STEPS
from .official import install_official_kv, official_inv_step, official_sample


@torch.no_grad()
def test_record_holds_every_decoder_self_attention_in_sampling_order(setup):
    unet, _, _, model, timesteps, inversion_sigmas, sampling_sigmas = setup
    z0 = torch.randn(2, 4, 16, 16)
    _, kv = invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    assert sorted(kv.states) == [("output", i, 0) for i in range(3, 12)]  # ComfyUI output blocks 3-11
    assert kv.states[("output", 3, 0)].shape == (7, 2, 16, 32) and kv.states[("output", 11, 0)].shape == (7, 2, 256, 32)
    assert kv.nbytes == 7 * 2 * 3 * (16 + 64 + 256) * 32 * 4
    # Slot 0 is timestep 601, the last inversion step: re-record with one step fewer and compare.
    shorter = fastdrag_timesteps(STEPS, 0.6)
    _, kv6 = invert_and_record(unet, model, z0, shorter, inversion_sigmas[:-1], sampling_sigmas[1:])
    torch.testing.assert_close(kv.states[("output", 5, 0)][1:], kv6.states[("output", 5, 0)], rtol=0, atol=0)


@torch.no_grad()
def test_kv_patch_gives_what_the_official_kv_replacement_gives(setup):
    unet, scheduler, context, model, timesteps, inversion_sigmas, sampling_sigmas = setup
    z0 = torch.randn(1, 4, 16, 16)
    x, kv = invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    ours = vp_latent(sample_with(unet, model, kv, x, sampling_sigmas), sampling_sigmas[-1])

    # The official processor keys K/V by the index of the timestep in the full schedule, in both passes.
    store, state = {}, {"mode": "save"}
    install_official_kv(unet, store, state)
    index = leading_timesteps(STEPS).index
    z = z0
    for t in reversed(timesteps):
        state["iter"] = index(t)
        z = official_inv_step(unet, z, context, scheduler, t, STEPS)
    state["mode"] = "use"
    for t in timesteps:
        state["iter"] = index(t)
        z = official_sample(unet, z, context, scheduler, [t])
    torch.testing.assert_close(ours, z, rtol=0, atol=2e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
@torch.no_grad()
def test_consistency_reconstructs_an_identity_drag_closer(seed):
    # Measured on this tiny random UNet (z0 ~ N(0, 1), 16² latent): mean |error| 0.12-0.14 with the
    # K/V injection against 0.14-0.17 without; the bounds below leave a margin.
    torch.manual_seed(seed)
    unet = H.tiny_unet(seed)
    sharpen_self_attention(unet)
    scheduler = H.official_scheduler()
    model = H.Denoiser(unet, torch.randn(1, 77, H.CONTEXT_DIM), scheduler)
    timesteps, inversion_sigmas, sampling_sigmas = schedules(model)
    z0 = torch.randn(1, 4, 16, 16)
    x, kv = invert_and_record(unet, model, z0, timesteps, inversion_sigmas, sampling_sigmas)
    with_kv = (vp_latent(sample_with(unet, model, kv, x, sampling_sigmas), sampling_sigmas[-1]) - z0).abs().mean()
    comfy_style(unet, model, [])
    without = (vp_latent(H.sample_euler(model, x, sampling_sigmas), sampling_sigmas[-1]) - z0).abs().mean()
    assert with_kv < 0.16
    assert with_kv < 0.95 * without, (float(with_kv), float(without))


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
    assert list(recorder.states) == [("output", 4, 0)]
    assert bool((recorder.states[("output", 4, 0)] == 1).all())


def _in_run(patch, sigmas, calls, latent_shape=(2, 4, 2, 2)):
    """One sampling run on ``sigmas`` through the patch's wrapper: ``calls[i]`` lists the model calls of step i,
    each ``(sigma, n, extra_options)``; returns what the patch gave each call."""
    outs = []

    def executor(noise, latent, sampler, sigmas, denoise_mask, callback):
        for step, step_calls in enumerate(calls):
            for sigma, n, options in step_calls:
                outs.append(patch(n, n, n, {"sigmas": torch.full((n.shape[0],), sigma), **options}))
            callback(step, None, None, len(sigmas) - 1)
        return latent

    patch.outer_sample(executor, None, torch.zeros(latent_shape), None, sigmas)
    return outs


GOOD = torch.tensor([3.0, 2.0, 1.0, 0.0])


@pytest.mark.parametrize("chunks", [[0], [1], [0, 1], [1, 0]])
def test_patch_gives_every_chunk_the_record_of_the_current_step(chunks):
    kv = _tiny_record()
    patch = ConsistencyPatch(kv)
    n = torch.randn(2 * len(chunks), 4, 5)
    options = {"block": ("output", 4), "block_index": 0, "cond_or_uncond": chunks}
    outs = _in_run(patch, GOOD, [[(3.0, n, options)], [(2.0, n, options)], [(1.0, n, options)]])
    _, context, value = outs[1]
    assert context is value
    expected = kv.states[("output", 4, 0)][1]  # sigma 2.0 is the second step in sampling order
    assert torch.equal(context, expected.repeat(len(chunks), 1, 1))
    assert torch.equal(expected[:, 0, 0], torch.tensor([1.0, 11.0]))  # batch order kept


def test_cond_and_uncond_in_separate_calls_of_a_step_get_the_same_record():
    kv = _tiny_record()
    n = torch.randn(2, 4, 5)
    cond, uncond = ({"block": ("output", 4), "cond_or_uncond": [c]} for c in (0, 1))
    outs = _in_run(ConsistencyPatch(kv), GOOD, [[(s, n, cond), (s, n, uncond)] for s in (3.0, 2.0, 1.0)])
    for step in range(3):
        assert torch.equal(outs[2 * step][1], kv.states[("output", 4, 0)][step])
        assert torch.equal(outs[2 * step + 1][1], kv.states[("output", 4, 0)][step])


def test_patch_leaves_other_blocks_alone_and_needs_a_run():
    patch = ConsistencyPatch(_tiny_record())
    n = torch.randn(2, 4, 5)
    for block in (("input", 4), ("middle", 0), ("output", 9)):
        out = patch(n, n, n, {"block": block, "sigmas": torch.ones(2), "cond_or_uncond": [0]})
        assert all(t is n for t in out)
    with pytest.raises(DragInputError, match="outside a sampling run"):
        patch(n, n, n, {"block": ("output", 4), "sigmas": torch.full((2,), 3.0), "cond_or_uncond": [0]})


def test_offloaded_record_is_used_the_same_way():
    kv = _tiny_record(storage="cpu")
    n = torch.randn(2, 4, 5)
    outs = _in_run(ConsistencyPatch(kv), GOOD, [[(3.0, n, {"block": ("output", 4), "cond_or_uncond": [0]})]] + [[]] * 2)
    assert torch.equal(outs[0][1], kv.states[("output", 4, 0)][0])


def test_run_checks_the_schedule_before_and_every_evaluation_after():
    kv = _tiny_record()
    patch = ConsistencyPatch(kv)
    n = torch.randn(2, 4, 5)
    options = {"block": ("output", 4), "cond_or_uncond": [0]}

    def run(sigmas, evaluated, latent_shape=(2, 4, 2, 2)):
        """One sampling run whose sampler evaluates the model at ``evaluated[i]`` (a list of sigmas) in step i."""
        return _in_run(patch, sigmas, [[(s, n, options) for s in step] for step in evaluated], latent_shape)

    run(GOOD, [[3.0], [2.0], [1.0]])
    with pytest.raises(DragInputError, match=r"steps are at timesteps .* but the K/V were recorded at timesteps \[300, 200, 100\]"):
        run(torch.tensor([2.5, 2.0, 1.0, 0.0]), [])
    with pytest.raises(DragInputError, match="evaluated the model between the recorded steps"):
        run(GOOD, [[3.0], [2.4, 2.0], [1.0]])  # a second-order sampler's midpoint
    with pytest.raises(DragInputError, match="evaluated the model between the recorded steps"):
        run(GOOD, [[3.0], [2.0], [1.0], [1.0]])  # more steps than the schedule
    run(GOOD, [[3.0], [2.0], [1.0]])  # the failed run left no state behind
    with pytest.raises(DragInputError, match="has none of the self-attention layers"):
        run(GOOD, [])
    with pytest.raises(DragInputError, match=r"latent: 1 latent\(s\) of 2×2, but the DRAG_KV was recorded"):
        run(GOOD, [[3.0]], latent_shape=(1, 4, 2, 2))


def test_patch_refuses_a_latent_of_another_size():
    n = torch.randn(2, 9, 5)
    with pytest.raises(DragInputError, match="gets 2 latent\\(s\\) with 9 positions .* holds 2 with 4 positions"):
        _in_run(ConsistencyPatch(_tiny_record()), GOOD, [[(3.0, n, {"block": ("output", 4), "cond_or_uncond": [0]})]])


def test_model_without_decoder_self_attention_is_refused():
    with pytest.raises(DragInputError, match="no self-attention in its decoder"):
        KVRecorder(3).finish()


def test_check_helpers_accept_what_fits():
    kv = _tiny_record()
    check_latent(kv, (2, 4, 2, 2))
    assert check_schedule(kv, torch.tensor([2.0, 1.0, 0.03])) == [1, 2]  # a later start (KSamplerAdvanced start_at_step)


def test_a_sampler_of_a_model_split_across_gpus_is_refused_before_the_run():
    class Guider:  # what ComfyUI's OUTER_SAMPLE executor exposes: the CFGGuider, with the options a MultiGPU node set
        model_options = {"multigpu_options": {"cuda:0": {}, "cuda:1": {}}}

    def executor(*args):
        raise AssertionError("sampled")

    executor.class_obj = Guider()
    with pytest.raises(DragInputError, match="split sampling across several GPUs.*FastDragConsistency"):
        ConsistencyPatch(_tiny_record()).outer_sample(executor, None, torch.zeros(2, 4, 2, 2), None, GOOD)
