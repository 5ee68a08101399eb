"""Point-following CFG: the unconditional prediction is the same model without the point terms, and
its scale decays over the steps from a maximum to 1 (official ``guidance_scale_decay``).

With step index i = 0 … N-1 of N steps and maximum s, the scale is ``1 + (s - 1) · w(i / N)``:

=============  ====================
``none``       w(u) = 1
``linear``     w(u) = 1 - u
``square``     w(u) = 1 - u²
``cubic``      w(u) = 1 - u³  (the official code calls it "quadratic")
``inv_square`` w(u) = (1 - u)²  (the official default)
=============  ====================

These equal the official formulas (e.g. linear: s(1 - u) + u).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import Tensor

from ..comfy_protocol import cfg_call, with_cond_scale
from ..errors import DragInputError

DECAYS = ("none", "linear", "square", "cubic", "inv_square")
DEFAULT_DECAY = "inv_square"

_WEIGHT: dict[str, Callable] = {
    "none": lambda u: u * 0 + 1,
    "linear": lambda u: 1 - u,
    "square": lambda u: 1 - u**2,
    "cubic": lambda u: 1 - u**3,
    "inv_square": lambda u: (1 - u) ** 2,
}


def point_guidance_scale(decay: str, scale: float, step: int | Tensor, steps: int) -> float | Tensor:
    """The point guidance at 0-based ``step`` of ``steps`` (a float, or a tensor for a tensor ``step``)."""
    if decay not in _WEIGHT:
        raise DragInputError(f"decay: {decay!r} is not a decay schedule; use one of {', '.join(DECAYS)}.")
    return 1 + (scale - 1) * _WEIGHT[decay](step / steps)


@dataclass(frozen=True)
class PointGuidance:
    """Point-following CFG as DragKSampler takes it: the maximum ``scale`` and its ``decay`` over the steps
    (:data:`DECAYS`). A scale of 1 turns it off: the conditional pass alone, as the official code at scale 1."""

    scale: float
    decay: str = DEFAULT_DECAY

    @property
    def on(self) -> bool:
        return self.scale > 1.0

    @property
    def sampler_cfg(self) -> float:
        """The cfg a ComfyUI sampler gets: the scale when on (the CFG function sets each step's own), else 1, with
        which ComfyUI skips the unconditional pass."""
        return self.scale if self.on else 1.0


def point_cfg_function(scale: float, decay: str, inner: Callable[[dict], Tensor] | None = None) -> Callable[[dict], Tensor]:
    """A ComfyUI ``sampler_cfg_function``: ``uncond + s_i · (cond - uncond)`` with s_i from the step index.

    The step is found on the device (:func:`..comfy_protocol.cfg_call`: exact for samplers that
    evaluate the model once per step, e.g. ddim, euler, lcm), so no host sync happens per step. Install
    it with ``disable_cfg1_optimization=True``: the unconditional pass is needed even when s_i is near 1.

    ``inner``: a CFG function another node already put on the model (RescaleCFG, CFGNorm, …). It then
    defines the formula and is called with ``cond_scale`` = s_i (a 0-d tensor), so both apply.
    """

    def cfg(args: dict) -> Tensor:
        call = cfg_call(args)
        s = point_guidance_scale(decay, scale, call.step.to(call.cond.dtype), call.steps).to(call.cond.device)
        if inner is not None:
            return inner(with_cond_scale(args, s))
        return call.uncond + s * (call.cond - call.uncond)

    return cfg
