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

from ..comfy_protocol import (
    LayerKey, Patch, chunk_count, conditional, for_every_chunk, layer_key, refuse_split_across_devices, step_sigma,
)
from ..errors import DragInputError
from ..schedule import nearest_step
from ..transfer import CopyStream, StepPrefetch, host_buffer

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
    device of the UNet when None; e.g. "cpu" for system memory, where it is written from a CUDA device
    asynchronously, into pinned memory, without stalling the inversion).
    """

    def __init__(self, steps: int, storage: torch.device | str | None = None):
        self.steps = steps
        self.storage = storage
        self.states: dict[LayerKey, Tensor] = {}
        self.filled: dict[LayerKey, int] = {}
        self.copies: CopyStream | None = None

    def _buffer(self, like: Tensor) -> Tensor:
        shape = (self.steps, *like.shape)
        if self.storage is None or torch.device(self.storage) == like.device:
            return torch.empty(shape, dtype=like.dtype, device=like.device)
        if self.copies is None:
            self.copies = CopyStream(like.device)
        storage = torch.device(self.storage)
        if storage.type == "cpu":
            return host_buffer(shape, like.dtype, like.device)
        return torch.empty(shape, dtype=like.dtype, device=storage)

    def __call__(self, n: Tensor, context: Tensor, value: Tensor, extra_options: dict):
        key = _decoder_layer(extra_options)
        positive = conditional(n, extra_options) if key is not None else None
        if positive is None:
            return n, context, value
        if key not in self.states:
            self.states[key] = self._buffer(positive)
            self.filled[key] = 0
        step = self.filled[key]
        if step >= self.steps:
            raise RuntimeError(f"FastDrag inversion evaluated self-attention {key} more than its {self.steps} steps")
        # Inversion visits the lowest timestep first; store in sampling order (highest first).
        slot = self.states[key][self.steps - 1 - step]
        if slot.device == positive.device:
            slot.copy_(positive)
        else:
            self.copies.to_host(slot, positive)
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
        if self.copies is not None:
            self.copies.synchronize()  # once per inversion: the record is complete when it leaves the node
        return DragKV(states=dict(sorted(self.states.items())), **fields)


class _Run:
    """One sampling run with the record: the step the sampler is at (counted on the host from ComfyUI's
    step callback), the record's slices for it on the device (:class:`..transfer.StepPrefetch`), and a
    check, kept on the device and read once after the run, that every model evaluation was at the sigma
    of that step."""

    def __init__(self, kv: DragKV, order: list[int], sigmas: Tensor):
        self.kv, self.order = kv, order
        self.expected = sigmas[: len(order)].float()
        self.step = 0
        self.overrun = False
        self.prefetch: StepPrefetch | None = None
        self.off: Tensor | None = None  # device bool: an evaluation at another sigma than its step's
        self.checked: Tensor | None = None  # the last model call's sigmas (one check per call, not per layer)

    def counted(self, callback: Callable | None) -> Callable:
        """ComfyUI's per-step ``callback(step, x0, x, total_steps)``, counting steps first."""

        def on_step(step, x0, x, total_steps):
            self.step = step + 1
            if callback is not None:
                return callback(step, x0, x, total_steps)

        return on_step

    def slices(self, n: Tensor, sigmas: Tensor) -> dict[LayerKey, Tensor]:
        """The record's slices [B, HW, C] of the current step on ``n``'s device, for a model call at ``sigmas``."""
        if self.prefetch is None:
            self.prefetch = StepPrefetch(self.kv.states, n.device)
            self.expected = self.expected.to(n.device)
        step = min(self.step, len(self.order) - 1)
        self.overrun |= self.step >= len(self.order)
        if sigmas is not self.checked:
            self.checked = sigmas
            expected = self.expected[step]
            off = (sigmas[:1].to(expected) - expected).abs() > _SIGMA_TOLERANCE * expected
            self.off = off if self.off is None else self.off | off
        following = self.order[step + 1] if step + 1 < len(self.order) else None
        return self.prefetch.step(self.order[step], following)


class _Current:
    """The sampling run a :class:`ConsistencyPatch` is in, if any."""

    run: _Run | None = None


class ConsistencyPatch(Patch):
    """The ``attn1_patch`` that makes sampling reuse ``kv``'s keys and values, with :meth:`outer_sample`,
    the ``OUTER_SAMPLE`` wrapper that runs each sampling run against the record.

    The wrapper checks before the run that the sampler's schedule and latent fit the record, counts
    the steps through ComfyUI's step callback so that the patch knows the current step on the host
    (no host sync per call, and the record's next step can be copied to the device while the current
    one computes), and checks after the run that every model evaluation was at its step's sigma and
    that the model has the recorded layers, raising a clear error otherwise. The record itself stays
    where FastDragInvert put it (system memory, unless ComfyUI keeps models on the GPU).
    """

    def __init__(self, kv: DragKV):
        self.kv = kv
        self.current = _Current()  # shared by the copies ComfyUI makes of the patch and of this wrapper

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
        run = self.current.run
        if run is None:
            raise DragInputError(
                "drag_kv: the model was evaluated outside a sampling run, so the recorded step is unknown; sample it with "
                "a ComfyUI sampler node (KSampler, SamplerCustom, FastDragKSampler)."
            )
        recorded = run.slices(n, step_sigma(extra_options))[key]
        recorded = for_every_chunk(recorded.to(dtype=n.dtype), extra_options)
        return n, recorded, recorded

    def outer_sample(self, executor: Callable, noise: Tensor, latent_image: Tensor, sampler: Any, sigmas: Tensor,
                     denoise_mask: Tensor | None = None, callback: Callable | None = None, *args, **kwargs):
        guider = getattr(executor, "class_obj", None)  # ComfyUI's CFGGuider, whose options a later MultiGPU node set
        if guider is not None:
            refuse_split_across_devices(guider.model_options, "FastDragConsistency")
        check_latent(self.kv, latent_image.shape)
        self.current.run = run = _Run(self.kv, check_schedule(self.kv, sigmas), sigmas.float().cpu())
        try:
            out = executor(noise, latent_image, sampler, sigmas, denoise_mask, run.counted(callback), *args, **kwargs)
        finally:
            self.current.run = None
        if run.prefetch is None:
            raise DragInputError(
                "drag_kv: the model has none of the self-attention layers the record holds; sample with the "
                "model that was inverted (or turn consistency off)."
            )
        if run.overrun or bool(run.off):
            raise DragInputError(
                f"drag_kv: the sampler evaluated the model between the recorded steps ({self.kv.describe()}). Use a "
                "first-order sampler that evaluates only at the schedule's steps, in order (ddim, euler)."
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


def check_schedule(kv: DragKV, sigmas: Tensor) -> list[int]:
    """The record's step for each step of a sampling run on ``sigmas`` (every sigma but the last is
    evaluated); raises unless each is a recorded step."""
    evaluated = sigmas[:-1].float().cpu()
    index, gap = nearest_step(kv.sigmas, evaluated)
    if len(evaluated) == 0 or bool((gap > _SIGMA_TOLERANCE).any()):
        raise DragInputError(
            f"drag_kv: the sampler's steps are at timesteps {kv.timesteps_of(evaluated)}, but the K/V were "
            f"{kv.describe()}. With a core sampler use the same steps and scheduler (ddim_uniform), start at step "
            f"{kv.total_steps - len(kv.timesteps)} with add_noise off; or use FastDragKSampler, which follows the record."
        )
    return index.tolist()
