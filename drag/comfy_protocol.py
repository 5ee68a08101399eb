"""How ComfyUI calls the pack's patches and samplers, in one place for both methods (no ComfyUI import).

* **Block keys.** A transformer block (ComfyUI's SpatialTransformer) is ``(block, id)``, e.g.
  ``("output", 4)`` (:data:`BlockKey`); one transformer layer inside it adds its index,
  ``("output", 4, 0)`` (:data:`LayerKey`). :func:`layer_key` reads it from a patch's ``extra_options``.
* **CFG chunks.** A model call's batch is ``len(cond_or_uncond)`` equal chunks, 0 = conditional
  (positive), 1 = unconditional, in any order, together or in separate calls (:func:`conditional`,
  :func:`conditional_rows`, :func:`add_on_rows`, :func:`for_every_chunk`).
* **The sampling run.** :func:`schedule_step` finds the current step of a run from the schedule ComfyUI
  hands every model call (the math is in drag/schedule.py); :func:`step_sigma` is the sigma an attention
  patch is called at.
* **Patches beside other packs' patches** (the rest of this module).

A ComfyUI model keeps, in ``model_options["transformer_options"]``, lists of patches that all run
(``patches["attn1_patch"]``, ``patches["attn2_patch"]``, …) and at most one *replacement* per
transformer block and kind (``patches_replace["attn1" | "attn2"][key]``), which computes that
attention from the projected q, k and v. A block looks its replacement up by ``(block, id, index)``
first, then by ``(block, id)``; setting a key again silently drops what was there. So the pack never
just sets a replacement: :func:`install_replace` hands the one the block had to ours, which calls it
in place of plain attention (IPAdapter's image attention or another pack's self-attention then still
runs, with our terms added).

Patch objects follow ComfyUI's protocol (``ModelPatcher.model_patches_to`` / ``model_patches_models``):
``to(device)`` is called when the model is loaded or offloaded and moves what the patch holds;
``to(dtype)`` is called too, with the dtype the *weights* are stored in, which may not be the compute
dtype (fp8 weights compute in bf16), so tensors are cast to the activations' dtype where they are used
instead; ``models()`` lists the ModelPatchers a patch needs loaded with the model. ComfyUI copies
model options on ``clone()`` (0.3.x deep-copies them), so a patch copies as a shallow copy that shares
its tensors and modules, with another pack's chained patch copied the way ComfyUI would have copied it.

``patcher`` arguments are anything with ComfyUI's ``ModelPatcher`` interface.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Callable, NamedTuple

import torch

from .errors import DragInputError
from .schedule import nearest_step

BlockKey = tuple[str, int]
"""A transformer block as ComfyUI names it: ``("input" | "middle" | "output", id)``."""

LayerKey = tuple[str, int, int]
"""One transformer layer: its block's key and its index inside the block (0 for every SD1.5 block)."""

Replacement = Callable[..., torch.Tensor]
"""``fn(q, k, v, extra_options) -> out``: attention from projected q, k, v ([B, T, heads·dim]), before ``to_out``."""


def layer_key(extra_options: dict) -> LayerKey | None:
    """The transformer layer an attention patch is called for, from ComfyUI's ``block`` and ``block_index``."""
    block = extra_options.get("block")
    if block is None:
        return None
    return str(block[0]), int(block[1]), int(extra_options.get("block_index", 0))


def chunks(extra_options: dict) -> tuple[int, ...]:
    """The call's CFG chunks in batch order (0 conditional, 1 unconditional), from ComfyUI's ``cond_or_uncond``."""
    return tuple(extra_options.get("cond_or_uncond", [0]))


def activations_hw(extra_options: dict) -> tuple[int, int]:
    """The (height, width) of the activations an attention patch is called on (ComfyUI's ``activations_shape``)."""
    return tuple(extra_options["activations_shape"][-2:])


def plain_attention(attention: Callable, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict) -> torch.Tensor:
    """ComfyUI's attention function ``attention`` (``optimized_attention``) on projected q, k, v, called as a
    transformer block calls it, with the block's heads, precision and options from ``extra_options``."""
    return attention(q, k, v, extra_options["n_heads"], attn_precision=extra_options.get("attn_precision"), transformer_options=extra_options)


def step_sigma(extra_options: dict) -> torch.Tensor:
    """The sigma(s) of the model call an attention patch runs in, as ComfyUI hands them to patches ([B] or [1])."""
    return extra_options["sigmas"]


def conditional(x: torch.Tensor, extra_options: dict) -> torch.Tensor | None:
    """The rows of ``x`` ([B, ...]) that belong to the conditional (positive) chunk, or None if the call has none."""
    order = chunks(extra_options)
    if 0 not in order:
        return None
    size = x.shape[0] // len(order)
    return x.narrow(0, order.index(0) * size, size)


def conditional_rows(extra_options: dict, like: torch.Tensor) -> torch.Tensor | None:
    """A [B, 1, 1] tensor (``like``'s batch, device and dtype) that is 1 on the rows of conditional chunks
    and 0 elsewhere, or None when every chunk is conditional. Made on the device without a host copy."""
    order = chunks(extra_options)
    if 1 not in order:
        return None
    rows = like.new_zeros(like.shape[0], 1, 1)
    size = like.shape[0] // len(order)
    for i, kind in enumerate(order):
        if kind == 0:
            rows[i * size : (i + 1) * size] = 1
    return rows


def add_on_rows(x: torch.Tensor, add: torch.Tensor, rows: torch.Tensor | None) -> torch.Tensor:
    """``x`` ([B, T, C]) plus ``add`` ([1, T, C]) on the rows where ``rows`` (:func:`conditional_rows`) is 1, in
    one kernel; on every row when ``rows`` is None."""
    return x + add if rows is None else torch.addcmul(x, rows, add)


def for_every_chunk(x: torch.Tensor, extra_options: dict) -> torch.Tensor:
    """``x`` (one chunk's rows, [b, ...]) for each chunk of the call, [chunks·b, ...]; a view (no copy) when b is 1."""
    count = chunk_count(extra_options)
    if count == 1:
        return x
    if x.shape[0] == 1:
        return x.expand(count, *x.shape[1:])
    return x.repeat(count, *([1] * (x.dim() - 1)))


def chunk_count(extra_options: dict) -> int:
    return len(chunks(extra_options))


class CFGCall(NamedTuple):
    """One call of a sampler CFG function, as the pack reads ComfyUI's ``args``: the conditional and unconditional
    predictions, the run's current step (a 0-d device tensor) and its number of steps (:func:`schedule_step`)."""

    cond: torch.Tensor
    uncond: torch.Tensor
    step: torch.Tensor
    steps: int


def cfg_call(args: dict) -> CFGCall:
    """What a sampler CFG function (``set_model_sampler_cfg_function``) needs of ComfyUI's ``args``."""
    step, steps = schedule_step(args["model_options"]["transformer_options"], args["sigma"])
    return CFGCall(args["cond"], args["uncond"], step, steps)


def with_cond_scale(args: dict, scale: torch.Tensor | float) -> dict:
    """ComfyUI's CFG ``args`` with another ``cond_scale``, for handing a call on to another pack's CFG function."""
    return {**args, "cond_scale": scale}


def cfg_function(patcher) -> Callable[[dict], torch.Tensor] | None:
    """The sampler CFG function already set on a model (by another pack), or None."""
    return patcher.model_options.get("sampler_cfg_function")


def attention_patches(patcher, kind: str) -> list:
    """The patches of ``kind`` (``"attn1_patch"``, ``"attn2_patch"``...) that run on every call of a model."""
    return list(patcher.model_options.get("transformer_options", {}).get("patches", {}).get(kind, []))


def with_patch(kind: str, patch: Callable) -> dict:
    """``transformer_options`` for calling a diffusion model directly with one patch of ``kind``."""
    return {"patches": {kind: [patch]}}


def schedule_step(transformer_options: dict, sigma: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The index of the current step of a sampling run (a 0-d device tensor) and the number of steps.

    ComfyUI gives every model call the run's schedule as ``transformer_options["sample_sigmas"]`` (the
    steps' sigmas, then the final one). Exact for samplers that evaluate the model once per step (ddim,
    euler, lcm); a second-order sampler's extra evaluations get the nearest step.
    """
    sigmas = transformer_options["sample_sigmas"]
    step, _ = nearest_step(sigmas[:-1], sigma.reshape(-1)[:1])
    return step[0], len(sigmas) - 1


def _moved(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)  # from pinned host memory: an asynchronous copy
    if isinstance(value, dict):
        return {k: _moved(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_moved(v, device) for v in value)
    return value


class Placed:
    """Tensors (or dicts / lists / tuples of them) that move with the model, and what is worked out from
    them while the model is on its device: a shared holder, so the patches of all blocks that use the
    same inputs move them once.

    The tensors given stay where they are (the node outputs they come from, on the offload device); a
    move to the model's device makes working copies from them and a move back drops the copies.
    :meth:`once` keeps a value until the next move, so what is fixed for a sampling run is computed on
    the first model call that needs it instead of on every call.
    """

    def __init__(self, **tensors: Any):
        self.__dict__.update(tensors)
        self._origin = tensors
        self._cache: dict = {}

    def to(self, target: Any) -> "Placed":
        if not isinstance(target, torch.dtype):
            device = torch.device(target)
            self.__dict__.update({name: _moved(value, device) for name, value in self._origin.items()})
            self._cache.clear()
        return self

    def once(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, made on the first call for ``key`` after the last move and reused until the next one
        (ComfyUI moves patch inputs when it loads the model for a run and when it offloads it)."""
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = make()
        return value

    def forget(self) -> None:
        """Drop what :meth:`once` kept (at the end of a sampling run, so no device memory outlives it)."""
        self._cache.clear()

    def __deepcopy__(self, memo: dict) -> "Placed":
        return self


class Patch:
    """Base of the pack's patch objects (see the module docstring for the protocol).

    ``inputs``: a :class:`Placed` holder of what the patch reads, or None; ``owners``: ModelPatchers
    the patch needs loaded with the model; ``inner``: another pack's replacement this one chains, or
    None.
    """

    inputs: Placed | None = None
    owners: tuple = ()
    inner: Replacement | None = None

    def to(self, target: Any) -> "Patch":
        if self.inputs is not None:
            self.inputs.to(target)
        if hasattr(self.inner, "to"):
            self.inner = self.inner.to(target)
        return self

    def models(self) -> list:
        chained = self.inner.models() if hasattr(self.inner, "models") else []
        return [*self.owners, *chained]

    def __deepcopy__(self, memo: dict) -> "Patch":
        clone = copy.copy(self)
        clone.inner = copy.deepcopy(self.inner, memo)
        return clone

    def attend(self, attention: Callable, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: dict) -> torch.Tensor:
        """The chained replacement on (q, k, v) if there is one, else ``attention``."""
        if self.inner is not None:
            return self.inner(q, k, v, extra_options)
        return attention(q, k, v, extra_options)


def _replacements(patcher, kind: str) -> dict:
    return patcher.model_options.get("transformer_options", {}).get("patches_replace", {}).get(kind, {})


def current_replace(patcher, kind: str, block: BlockKey, index: int = 0) -> Replacement | None:
    """The ``kind`` ("attn1" or "attn2") replacement that ``block``'s transformer ``index`` would call now."""
    replaces = _replacements(patcher, kind)
    return replaces.get((*block, index), replaces.get(block))


def install_replace(patcher, kind: str, block: BlockKey, make: Callable[[Replacement | None], Replacement]) -> Replacement:
    """Install ``make(inner)`` as ``block``'s ``kind`` replacement on ``patcher`` (a model clone), where
    ``inner`` is the replacement the block had (another pack's, or None), which ours then calls.

    Ours goes under the ``(block, id)`` key, which serves every transformer index of the block (one on
    SD1.5), and takes the ``(block, id, 0)`` one over, so a patch that a node installs for a single
    pass later (PerturbedAttentionGuidance does) still overrides ours in that pass, as it would have
    overridden the plain attention.
    """
    inner = current_replace(patcher, kind, block)
    patch = make(inner)
    _replacements(patcher, kind).pop((*block, 0), None)
    setter = {"attn1": patcher.set_model_attn1_replace, "attn2": patcher.set_model_attn2_replace}[kind]
    setter(patch, *block)
    return patch


def refuse_split_across_devices(model_options: dict, node: str) -> None:
    """Raise before sampling when ComfyUI would split the model's batch across several GPUs (its MultiGPU CFG
    split, 0.2x and later, which runs the model's patches on every device at once): the pack's patches hold
    one run's inputs on one device. ``node``: what refuses, as the user knows it."""
    if model_options.get("multigpu_options") or model_options.get("multigpu_clones"):
        raise DragInputError(
            f"model: it is set up to split sampling across several GPUs (a MultiGPU node is upstream), which {node} does "
            "not support: its patches keep the edit's inputs on one device. Give it the model from before the MultiGPU "
            "node; the edit then runs on one GPU."
        )


def _named(fn: Any) -> Any:
    return fn if callable(fn) and hasattr(fn, "__qualname__") else type(fn)


def module_of(fn: Any) -> str:
    """The module a patch comes from, as ``package.module``: ComfyUI names the modules it loads from files
    (``comfy_extras``, node packs) by their path, e.g. ``/opt/ComfyUI/comfy_extras/nodes_sag`` → ``comfy_extras.nodes_sag``."""
    parts = str(getattr(_named(fn), "__module__", "") or "").replace(os.sep, "/").split("/")
    return ".".join(parts[-2:]) if len(parts) > 1 else parts[0]


def describe(fn: Any) -> str:
    """A patch named for a person: its function or class and the module (node pack) it comes from."""
    return f"{_named(fn).__qualname__} (from {module_of(fn) or '?'})"
