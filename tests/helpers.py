"""Small helpers every test module shares."""

from __future__ import annotations

import pytest
import torch

from drag_editing_pack_under_test.drag.errors import DragInputError


def error_of(fn, *args, **kwargs) -> str:
    """The message of the :class:`DragInputError` that ``fn(*args, **kwargs)`` raises (fails if it raises none)."""
    with pytest.raises(DragInputError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def runs(layer: torch.Tensor) -> list[int]:
    """Run-length code ``[value, count, ...]`` of a tensor's values in raster order (the editor's mask format)."""
    out: list[int] = []
    for v in layer.flatten().to(torch.int64).tolist():
        if out and out[-2] == v:
            out[-1] += 1
        else:
            out += [v, 1]
    return out


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / ||b|| in float64 (how far an edit made another way is from the reference edit ``b``)."""
    return float((a.double() - b.double()).norm() / b.double().norm())
