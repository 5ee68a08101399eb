"""DRAG_KV: FastDrag's consistency-preserving self-attention K/V, recorded in inversion, reused in sampling.

The official code stores the keys and values of the decoder self-attention layers (diffusers
``up_blocks``, ComfyUI ``output`` blocks; for SD1.5 ``output`` 3-11, for other UNets see
``architectures.py``) at every inversion step, keyed by
the step's timestep, and while sampling replaces each layer's keys and values with the stored ones for
the same timestep (queries still come from the warped latent), for the conditional and unconditional
batch alike. Keys and values are linear in the layer's normalised input, so this module stores that
input once (half the memory of K and V) and passes it to ComfyUI's self-attention as both ``context``
and ``value``, which yields the same keys and values.

Everything here follows ComfyUI's patch protocols without importing ComfyUI:

* ``attn1_patch(n, context, value, extra_options) -> (n, context, value)``: ``extra_options`` has
  ``block`` (e.g. ``("output", 4)``), ``block_index``, ``sigmas`` (per-sample sigma) and
  ``cond_or_uncond`` (one entry per batch chunk, 0 = positive, 1 = negative, in any order);
* an ``OUTER_SAMPLE`` wrapper ``fn(executor, noise, latent_image, sampler, sigmas, ...)`` around one
  sampling run.

The patch is a :class:`..comfy_protocol.Patch`: a model ``clone()`` shares its record instead of copying
it, and the record itself is never modified after inversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

from ..comfy_protocol import LayerKey, Patch, Placed, chunk_count, conditional, for_every_chunk, layer_key, nearest_step
from ..errors import DragInputError

_SIGMA_TOLERANCE = 1e-3  # relative; recorded and requested sigmas come from the same table


@dataclass(frozen=True, eq=False)
class DragKV:
    """The self-attention inputs FastDrag's inversion recorded, per decoder layer and timestep.

    ``states[key]``: [S, B, HW, C] per decoder layer (``("output", id, index)``), the normalised input of
    its self-attention for the positive (conditional) pass, S steps in sampling order. ``timesteps`` / ``sigmas``: those S
    steps (e.g. 601, 501, ..., 1), sigmas as float32 on the CPU. ``final_sigma``: where sampling ends
    (sigma of timestep 0). ``sigma_table``: the model's sigma of every training timestep, to name
    timesteps in messages. ``latent_shape``: [B, C, h, w] of the inverted latent. ``conditioning``:
    the positive conditioning the inversion used (FastDrag samples with the same prompt).
    """

    states: dict[LayerKey, Tensor]
    timesteps: tuple[int, ...]
    sigmas: Tensor
    final_sigma: float
    sigma_table: Tensor
    total_steps: int
    strength: float
    latent_shape: tuple[int, ...]
    conditioning: Any = None

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.states.values())

    def sampling_sigmas(self) -> Tensor:
        """The schedule that samples back from the inverted latent: the recorded sigmas, then the final one."""
        return torch.cat([self.sigmas, torch.tensor([self.final_sigma])])

    def timesteps_of(self, sigmas: Tensor) -> list[int]:
        """The training timesteps nearest to ``sigmas`` (for messages)."""
        return nearest_step(self.sigma_table, sigmas.float().cpu())[0].tolist()

    def describe(self) -> str:
        b, c, h, w = self.latent_shape
        return (
            f"recorded at timesteps {list(self.timesteps)} ({self.total_steps} steps, strength {self.strength}) "
            f"for {b} latent(s) of {w}×{h}"
        )


def _decoder_layer(extra_options: dict) -> LayerKey | None:
    key = layer_key(extra_options)
    return key if key is not None and key[0] == "output" else None


class KVRecorder:
    """An ``attn1_patch`` that records the positive pass's self-attention inputs of the decoder blocks.

    Install it on a model clone used for one inversion of ``steps`` steps (one UNet evaluation per
    step), then build the record with :meth:`finish`. ``storage``: where the record is kept (the
    device of the UNet when None; e.g. "cpu" to offload).
    """

    def __init__(self, steps: int, storage: torch.device | str | None = None):
        self.steps = steps
        self.storage = storage
        self.states: dict[LayerKey, Tensor] = {}
        self.filled: dict[LayerKey, int] = {}

    def __call__(self, n: Tensor, context: Tensor, value: Tensor, extra_options: dict):
        key = _decoder_layer(extra_options)
        positive = conditional(n, extra_options) if key is not None else None
        if positive is None:
            return n, context, value
        if key not in self.states:
            device = positive.device if self.storage is None else self.storage
            self.states[key] = torch.empty((self.steps, *positive.shape), dtype=positive.dtype, device=device)
            self.filled[key] = 0
        step = self.filled[key]
        if step >= self.steps:
            raise RuntimeError(f"FastDrag inversion evaluated self-attention {key} more than its {self.steps} steps")
        # Inversion visits the lowest timestep first; store in sampling order (highest first).
        self.states[key][self.steps - 1 - step].copy_(positive)
        self.filled[key] = step + 1
        return n, context, value

    def finish(self, **fields: Any) -> DragKV:
        """The record, with the other :class:`DragKV` fields given by keyword. Raises if nothing was recorded."""
        if not self.states:
            raise DragInputError(
                "model: it has no self-attention in its decoder (output) blocks, which FastDrag's consistency "
                "needs (the UNets of SD1.5, SD2.x and SDXL have them). Use one of those models."
            )
        incomplete = {k: v for k, v in self.filled.items() if v != self.steps}
        if incomplete:
            raise RuntimeError(f"FastDrag inversion recorded some self-attention layers on fewer steps: {incomplete}")
        return DragKV(states=dict(sorted(self.states.items())), **fields)


class _RunState:
    """What one sampling run learns about the record, checked after the run (one host sync in all)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.unrecorded: Tensor | None = None  # device bool: a model call at a sigma the record lacks
        self.used = False

    def note(self, unrecorded: Tensor) -> None:
        self.unrecorded = unrecorded if self.unrecorded is None else self.unrecorded | unrecorded
        self.used = True


class ConsistencyPatch(Patch):
    """The ``attn1_patch`` that makes sampling reuse ``kv``'s keys and values, with :meth:`outer_sample`,
    the ``OUTER_SAMPLE`` wrapper that checks each sampling run against the record.

    The patch looks the current step up on the device (no host sync per call). The wrapper checks
    before the run that the sampler's schedule and latent fit the record, and after it that every
    model evaluation found its step and that the model has the recorded layers, raising a clear
    error otherwise. ComfyUI moves the step table with the model; the record stays where
    FastDragInvert put it (``offload_kv``), since the DRAG_KV that holds it outlives this model.
    """

    def __init__(self, kv: DragKV):
        self.kv = kv
        self.inputs = Placed(sigmas=kv.sigmas)
        self.run = _RunState()

    def __call__(self, n: Tensor, context: Tensor, value: Tensor, extra_options: dict):
        kv = self.kv
        key = _decoder_layer(extra_options)
        stored = kv.states.get(key) if key is not None else None
        if stored is None:
            return n, context, value
        chunks = chunk_count(extra_options)
        if stored.shape[1] * chunks != n.shape[0] or stored.shape[2:] != n.shape[1:]:
            raise DragInputError(
                f"drag_kv: self-attention {key} gets {n.shape[0] // chunks} latent(s) with {n.shape[1]} positions and "
                f"{n.shape[2]} channels, but the record holds {stored.shape[1]} with {stored.shape[2]} positions and "
                f"{stored.shape[3]} channels ({kv.describe()}). Sample the latent that was inverted, with the same model."
            )
        step, gap = nearest_step(self.inputs.sigmas, extra_options["sigmas"][:1].float())
        self.run.note(gap[0] > _SIGMA_TOLERANCE)
        recorded = stored.index_select(0, step.to(stored.device))[0]
        recorded = for_every_chunk(recorded.to(device=n.device, dtype=n.dtype), extra_options)
        return n, recorded, recorded

    def outer_sample(self, executor: Callable, noise: Tensor, latent_image: Tensor, sampler: Any, sigmas: Tensor, *args, **kwargs):
        check_latent(self.kv, latent_image.shape)
        check_schedule(self.kv, sigmas)
        self.run.reset()
        out = executor(noise, latent_image, sampler, sigmas, *args, **kwargs)
        if not self.run.used:
            raise DragInputError(
                "drag_kv: the model has none of the self-attention layers the record holds; sample with the "
                "model that was inverted (or turn consistency off)."
            )
        if bool(self.run.unrecorded):
            raise DragInputError(
                f"drag_kv: the sampler evaluated the model between the recorded steps ({self.kv.describe()}). Use a "
                "first-order sampler that evaluates only at the schedule's steps (ddim, euler)."
            )
        return out


def check_latent(kv: DragKV, shape: torch.Size | tuple[int, ...]) -> None:
    """Raise unless a latent of ``shape`` [B, C, h, w] is the one that was inverted (batch, size)."""
    b, c, h, w = kv.latent_shape
    if (shape[0], shape[-2], shape[-1]) != (b, h, w):
        raise DragInputError(
            f"latent: {shape[0]} latent(s) of {shape[-1]}×{shape[-2]}, but the DRAG_KV was {kv.describe()}. "
            "Sample the warped latent of the image that FastDragInvert inverted."
        )


def check_schedule(kv: DragKV, sigmas: Tensor) -> None:
    """Raise unless the model is evaluated only at recorded steps: every sigma but the last of ``sigmas``."""
    evaluated = sigmas[:-1].float().cpu()
    _, gap = nearest_step(kv.sigmas, evaluated)
    if len(evaluated) == 0 or bool((gap > _SIGMA_TOLERANCE).any()):
        raise DragInputError(
            f"drag_kv: the sampler's steps are at timesteps {kv.timesteps_of(evaluated)}, but the K/V were "
            f"{kv.describe()}. With a core sampler use the same steps and scheduler (ddim_uniform), start at step "
            f"{kv.total_steps - len(kv.timesteps)} with add_noise off; or use FastDragKSampler, which follows the record."
        )
