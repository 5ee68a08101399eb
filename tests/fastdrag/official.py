"""Transcriptions of the official FastDrag code (XuanjiaZ/FastDrag@def3c4e, specs/fastdrag.md) to test against.

* :func:`points_to_latent`, :func:`mask_to_latent`: run_drag's mapping of image points and the sketch mask
  to the latent grid (§1.3-1.4), point by point and row by row as PyTorch's resize kernels index them.
* :func:`circle`, :func:`continuous_drag`, :func:`bnni`: a slow, per-pixel transcription of the continuous
  drag (§2-4). It follows the official control flow literally (one pixel, one drag at a time, scalar torch
  ops in the official operation order, a Python set for "already written", an in-place raster-order BNNI),
  so it can serve as an oracle on random inputs beyond the four official reference cases. Latent
  coordinates are (y, x). Holes are given explicitly (the official code detects them as channel 0 == 0).
* :func:`official_inv_step`, :func:`official_invert`, :func:`official_sample`: the pipeline's DDIM inversion
  and sampling loops on a diffusers UNet and DDIMScheduler.
* :class:`OfficialKVProcessor`: the official processor's K/V handling (store post-projection K and V per
  step during inversion, replace both while sampling).
"""

from __future__ import annotations

import torch

import unet_harness as H


def points_to_latent(points, width: int, height: int) -> torch.Tensor:
    """Image points [(x, y), ...] of a width × height image as latent (y, x), float32 [K, 2].

    run_drag: ``torch.round(torch.tensor([y / H * int(H/2), x / W * int(W/2)]))`` per point (Python
    doubles, stored as a float32 tensor, rounded half to even there); the warp then divides by 4.
    """
    sup_h, sup_w = int(height / 2), int(width / 2)
    half = [torch.round(torch.tensor([y / height * sup_h, x / width * sup_w])) for x, y in points]
    return torch.stack(half) / 4


def _nearest_sources(in_size: int, out_size: int) -> list[int]:
    """F.interpolate(mode="nearest"): output i reads input min(floor(i · scale), in − 1), scale = in / out
    in float32."""
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    return [min(int(torch.floor(i * scale)), in_size - 1) for i in range(out_size)]


def _bilinear_taps(in_size: int, out_size: int) -> list[tuple[int, int, float, float]]:
    """(i0, i1, weight of i0, weight of i1) of each output of a bilinear resize, align_corners off, no
    antialiasing (torchvision 0.15's tensor resize), in float32 as PyTorch's CPU kernel computes them."""
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    taps = []
    for i in range(out_size):
        real = torch.clamp(scale * (i + 0.5) - 0.5, min=0)
        i0 = min(int(torch.floor(real)), in_size - 1)
        lam = float(torch.clamp(real - i0, 0, 1))
        taps.append((i0, i0 + 1 if i0 < in_size - 1 else i0, 1 - lam, lam))
    return taps


def mask_to_latent(mask: torch.Tensor) -> torch.Tensor:
    """The latent edit mask of one [H, W] image mask, [int(H/2)/4, int(W/2)/4] bool (masked = ``> 0``).

    run_drag: binarise (> 0), nearest to (int(H/2), int(W/2)), then torchvision's bilinear resize to
    (int(h/4), int(w/4)) of that half-resolution grid, with antialias off.
    """
    full_h, full_w = mask.shape
    sup_h, sup_w = int(full_h / 2), int(full_w / 2)
    rows, cols = torch.tensor(_nearest_sources(full_h, sup_h)), torch.tensor(_nearest_sources(full_w, sup_w))
    half = (mask > 0).float()[rows][:, cols].tolist()
    taps = _bilinear_taps(sup_w, int(sup_w / 4))
    soft = [
        [a0 * (b0 * half[r0][c0] + b1 * half[r0][c1]) + a1 * (b0 * half[r1][c0] + b1 * half[r1][c1]) for c0, c1, b0, b1 in taps]
        for r0, r1, a0, a1 in _bilinear_taps(sup_h, int(sup_h / 4))
    ]
    return torch.tensor(soft) > 0


def circle(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """get_circle: the centre (y, x) of the mask's bounding box and its half-diagonal, through
    PairwiseDistance (eps 1e-6)."""
    pixels = torch.nonzero(mask)
    low = torch.tensor([float(pixels[:, 0].min()), float(pixels[:, 1].min())])
    high = torch.tensor([float(pixels[:, 0].max()), float(pixels[:, 1].max())])
    center = torch.tensor([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2])
    return center, torch.norm(center - low + 1e-6)


def continuous_drag(latent: torch.Tensor, mask: torch.Tensor, handles: torch.Tensor, targets: torch.Tensor):
    """Relocation with cleared mask ('0' fill). latent [1, C, h, w]; mask [h, w] bool; handles/targets [K, 2].

    Returns (warped latent, holes [h, w] bool).
    """
    h, w = mask.shape
    out = latent.clone()
    out[:, :, mask] = 0
    pixels = torch.nonzero(mask)
    center, radius = circle(mask)
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


def official_inv_step(unet, z, context, scheduler, t, steps):
    """DragPipeline.inv_step after the UNet call: the UNet sees the current latent at the next timestep t."""
    ac = scheduler.alphas_cumprod
    eps = unet(z, t, encoder_hidden_states=context).sample
    prev = t - 1000 // steps
    a_prev = ac[prev] if prev >= 0 else scheduler.final_alpha_cumprod
    x0 = (z - (1 - a_prev) ** 0.5 * eps) / a_prev**0.5
    return ac[t] ** 0.5 * x0 + (1 - ac[t]) ** 0.5 * eps


def official_invert(unet, z, context, scheduler, timesteps_up, steps):
    for t in timesteps_up:
        z = official_inv_step(unet, z, context, scheduler, t, steps)
    return z


def official_sample(unet, z, context, scheduler, timesteps_down):
    for t in timesteps_down:
        eps = unet(z, t, encoder_hidden_states=context).sample
        z = scheduler.step(eps, t, z, return_dict=False)[0]
    return z


def _attend(attn, q, k, v):
    out = H.heads_attention(q, k, v, attn.heads)
    return attn.to_out[1](attn.to_out[0](out))


class OfficialKVProcessor:
    """FastDrag's processor: save K and V at each inversion step (keyed by the sampling index of its
    timestep), replace K and V with the saved ones at each sampling step."""

    def __init__(self, store: dict, block, state: dict):
        self.store, self.block, self.state = store, block, state

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        q, k, v = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
        slot = (self.block, self.state["iter"])
        if self.state["mode"] == "save":
            self.store[slot] = (k, v)
        elif self.state["mode"] == "use":
            k, v = (t.repeat(hidden_states.shape[0] // t.shape[0], 1, 1) for t in self.store[slot])
        return _attend(attn, q, k, v)


def install_official_kv(unet, store: dict, state: dict) -> None:
    """The official K/V processor on every decoder self-attention of ``unet``."""
    for block, attn1 in H.decoder_self_attentions(unet):
        attn1.set_processor(OfficialKVProcessor(store, block, state))
