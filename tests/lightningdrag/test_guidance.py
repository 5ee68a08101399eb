"""Point-following CFG and its decay schedules (drag/lightningdrag/guidance.py)."""

import pytest
import torch

from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.lightningdrag.guidance import point_cfg_function, point_guidance_scale


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


def test_point_guidance_decides_once_whether_it_is_on_and_the_samplers_cfg():
    from drag_editing_dev.drag.lightningdrag.guidance import PointGuidance

    assert PointGuidance(4.0).on and PointGuidance(4.0).sampler_cfg == 4.0 and PointGuidance(4.0).decay == "inv_square"
    off = PointGuidance(1.0, "linear")
    assert not off.on and off.sampler_cfg == 1.0  # cfg 1: ComfyUI skips the unconditional pass
