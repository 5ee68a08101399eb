"""A slow, per-pixel transcription of FastDrag's continuous drag (specs/fastdrag.md §2-4), for tests.

It follows the official control flow literally (one pixel, one drag at a time, scalar torch ops in
the official operation order, a Python set for "already written", an in-place raster-order BNNI),
so it can serve as an oracle on random inputs beyond the four official reference cases. Latent
coordinates are (y, x). Holes are given explicitly (the official code detects them as channel 0 == 0).
"""

from __future__ import annotations

import torch


def continuous_drag(latent: torch.Tensor, mask: torch.Tensor, handles: torch.Tensor, targets: torch.Tensor):
    """Relocation with cleared mask ('0' fill). latent [1, C, h, w]; mask [h, w] bool; handles/targets [K, 2].

    Returns (warped latent, holes [h, w] bool).
    """
    h, w = mask.shape
    out = latent.clone()
    out[:, :, mask] = 0
    pixels = torch.nonzero(mask)
    low = torch.tensor([float(pixels[:, 0].min()), float(pixels[:, 1].min())])
    high = torch.tensor([float(pixels[:, 0].max()), float(pixels[:, 1].max())])
    center = torch.tensor([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2])
    radius = torch.norm(center - low + 1e-6)
    written: set[tuple[int, int]] = set()
    for index in pixels:
        c = index[-2:]
        vectors, ratios = [], []
        for a, b in zip(handles, targets):
            ac = c - a
            d_ac = torch.norm(ac)
            e_ac = ac / d_ac
            oa = a - center
            d_oa = torch.norm(oa)
            l0 = torch.dot(ac, oa) / d_ac
            l1 = torch.sqrt(radius**2 - d_oa**2 + l0**2)
            ap = (l1 - l0) * e_ac
            scale = torch.norm(ac - ap) / torch.norm(ap)
            vectors.append(scale * (b - a))
            ratios.append(1 / (torch.norm(c - a) + 0.0001))
        vectors_t = torch.stack(vectors)
        ratios_t = torch.stack(ratios)
        ratio = ratios_t / ratios_t.sum()
        move = (ratio * vectors_t.T).T.sum(dim=0)
        new = torch.round(c + move)
        if not bool(torch.isfinite(new).all()):
            continue  # the official int(nan) raises; the pixel is skipped
        y = min(max(int(new[0]), 0), h - 1)
        x = min(max(int(new[1]), 0), w - 1)
        if (y, x) in written:
            continue
        written.add((y, x))
        out[:, :, y, x] = latent[:, :, int(c[0]), int(c[1])]
    holes = mask.clone()
    for y, x in written:
        holes[y, x] = False
    return out, holes


def bnni(latent: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    """Raster-order, in-place BNNI over explicit holes. latent [1, C, h, w]; holes [h, w] bool."""
    out = latent.clone()
    h, w = holes.shape
    present = (~holes).tolist()
    for i in range(h):
        for j in range(w):
            if present[i][j]:
                continue
            values, weights = [], []
            for di, dj in ((0, -1), (0, 1), (-1, 0), (1, 0)):
                k = 1
                while 0 <= i + di * k < h and 0 <= j + dj * k < w:
                    if present[i + di * k][j + dj * k]:
                        values.append(out[0, :, i + di * k, j + dj * k])
                        weights.append(1 / k)
                        break
                    k += 1
            if weights:
                out[0, :, i, j] = sum(wt * v for wt, v in zip(weights, values)) / sum(weights)
                present[i][j] = True
    return out
