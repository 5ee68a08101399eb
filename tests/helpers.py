"""Small helpers every test module shares."""

from __future__ import annotations

import pytest
import torch

from drag_editing_dev.drag.errors import DragInputError


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


def ulps_apart(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """How many float32 values lie between ``a`` and ``b``, elementwise (0 = equal; NaN = NaN counts as 0).

    For float intermediates that vectorised kernels round differently on each instruction set (AVX2,
    AVX-512, NEON, a GPU): a test states how many ulps it allows instead of asserting bit-equality.
    """
    def ordered(t: torch.Tensor) -> torch.Tensor:
        bits = t.to(torch.float32).contiguous().view(torch.int32).to(torch.int64)
        return torch.where(bits < 0, -(bits & 0x7FFFFFFF), bits)

    both_nan = a.isnan() & b.isnan()
    return torch.where(both_nan, 0, (ordered(a) - ordered(b)).abs())


def random_lpips_weights(seed: int = 0) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Random weights in the layouts of LPIPS's two official files: torchvision's AlexNet state dict (with its
    unused classifier) and LPIPS v0.1's ``alex.pth`` heads."""
    g = torch.Generator().manual_seed(seed)
    shapes = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3), 8: (256, 384, 3, 3), 10: (256, 256, 3, 3)}
    alexnet = {f"features.{i}.weight": torch.randn(s, generator=g) * 0.05 for i, s in shapes.items()}
    alexnet |= {f"features.{i}.bias": torch.randn(s[0], generator=g) * 0.05 for i, s in shapes.items()}
    alexnet |= {"classifier.1.weight": torch.zeros(4096, 9216)}
    heads = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1, generator=g) for i, c in enumerate((64, 192, 384, 256, 256))}
    return alexnet, heads
