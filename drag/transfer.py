"""Moving per-step data between system memory and the compute device without stalling the GPU.

FastDrag's K/V record is written at every inversion step and read at every sampling step, and waits in
system memory between nodes. On CUDA the copies run on a stream of their own from page-locked (pinned)
memory, so the compute stream never blocks on them: writes are queued after the kernels that produce
the data, reads of the next step are queued while the current step computes. On other devices (the
CPU, MPS, ...) they are plain copies, and where the data already is on the device nothing is copied.
"""

from __future__ import annotations

from typing import Hashable

import torch
from torch import Tensor


def host_buffer(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
    """An empty tensor in system memory for data of the compute ``device``: pinned when that is a CUDA
    device, so copies to and from it can be asynchronous."""
    return torch.empty(shape, dtype=dtype, pin_memory=device.type == "cuda")


class CopyStream:
    """Copies between pinned host memory and the CUDA ``device`` on a side stream; synchronous copies on
    any other device."""

    def __init__(self, device: torch.device):
        self.device = device
        self.stream = torch.cuda.Stream(device) if device.type == "cuda" else None

    def to_host(self, dst: Tensor, src: Tensor) -> None:
        """Copy ``src`` (on the device) into ``dst`` (host), after the work already queued that produces ``src``."""
        if self.stream is None or src.device.type != "cuda":
            dst.copy_(src)
            return
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream):
            dst.copy_(src, non_blocking=True)
        src.record_stream(self.stream)  # the compute stream may free src before the copy has read it

    def to_device(self, tensors: dict[Hashable, Tensor]) -> tuple[dict[Hashable, Tensor], torch.cuda.Event | None]:
        """Start copying ``tensors`` (host) to the device. Returns the device tensors and the event to wait on
        (:meth:`wait`) before reading them (None when the copies are already done)."""
        if self.stream is None:
            return {k: t.to(self.device) for k, t in tensors.items()}, None
        with torch.cuda.stream(self.stream):
            copies = {k: t.to(self.device, non_blocking=True) for k, t in tensors.items()}
            done = torch.cuda.Event()
            done.record(self.stream)
        return copies, done

    def wait(self, done: torch.cuda.Event | None, tensors: dict[Hashable, Tensor]) -> None:
        """Make the compute stream wait for ``done`` before it reads ``tensors`` (from :meth:`to_device`)."""
        if done is None:
            return
        current = torch.cuda.current_stream(self.device)
        current.wait_event(done)
        for t in tensors.values():
            t.record_stream(current)  # allocated on the copy stream, read on the compute stream

    def synchronize(self) -> None:
        """Wait (on the host) until every copy queued so far is done."""
        if self.stream is not None:
            self.stream.synchronize()


class StepPrefetch:
    """The slices ``states[k][step]`` of records ``states`` ([S, ...] each, on the host or already on the
    device) on the compute ``device``, one step at a time: asking for a step also starts copying the next
    one, so a sampling step's copy overlaps the step before it. Holds at most two steps on the device."""

    def __init__(self, states: dict[Hashable, Tensor], device: torch.device):
        self.states, self.device = states, device
        self.copies = CopyStream(device)
        self.loaded: dict[int, tuple[dict[Hashable, Tensor], torch.cuda.Event | None]] = {}
        self.waited: set[int] = set()

    def _load(self, step: int) -> None:
        if step not in self.loaded:
            slices = {k: s[step] for k, s in self.states.items()}
            on_device = all(t.device == self.device for t in slices.values())
            self.loaded[step] = (slices, None) if on_device else self.copies.to_device(slices)

    def step(self, step: int, following: int | None) -> dict[Hashable, Tensor]:
        """The slices of ``step`` on the device; ``following``: the step to fetch next (None at the end)."""
        self._load(step)
        slices, done = self.loaded[step]
        if step not in self.waited:
            self.copies.wait(done, slices)
            self.waited.add(step)
        if following is not None:
            self._load(following)
        for old in [s for s in self.loaded if s not in (step, following)]:
            del self.loaded[old]
            self.waited.discard(old)
        return slices
