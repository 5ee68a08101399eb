"""LightningDrag's point embedding network and the index maps it reads.

The drag pairs are drawn into two maps at the working image resolution (handles, targets), one pixel
per point holding the pair's 1-based number; a conv pyramid turns them into embeddings at 1/8, 1/16,
1/32 and 1/64 of the image, and each level's channels split into a handle half and a target half.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..points import DragPoints


class _ConvBlock(nn.Module):
    """conv 3×3 (stride 2) → SiLU → conv 3×3 → SiLU, without biases (the official ``ConvBlock``)."""

    def __init__(self, in_channels: int, out_channels: int, operations: Any = nn, **like: Any):
        super().__init__()
        self.conv1 = operations.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False, **like)
        self.conv2 = operations.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False, **like)

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.silu(self.conv2(nn.functional.silu(self.conv1(x))))


class PointEmbeddingNet(nn.Module):
    """The official ``PointEmbeddingModel(embed_dim=16)``; its state dict keys are those of
    ``point_embedding/point_embedding.pt`` (``conv_in``, ``downsample_blocks_vae.{0-2}``,
    ``downsample_blocks_unet.{0-2}``, each block ``conv1``/``conv2``).

    ``operations`` builds the convolutions (``torch.nn``, or the ``comfy.ops`` class ComfyUI picks);
    ``dtype`` / ``device``: where the weights are stored; ``compute_dtype``: the dtype the index maps
    are given in (the storage dtype when None).
    """

    def __init__(self, dtype: torch.dtype | None = None, device: Any = None, operations: Any = nn,
                 compute_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.compute_dtype = compute_dtype or dtype or torch.get_default_dtype()
        like = {"operations": operations, "dtype": dtype, "device": device}
        self.conv_in = operations.Conv2d(2, 32, 3, padding=1, bias=False, dtype=dtype, device=device)
        self.downsample_blocks_vae = nn.Sequential(_ConvBlock(32, 64, **like), _ConvBlock(64, 128, **like), _ConvBlock(128, 256, **like))
        self.downsample_blocks_unet = nn.ModuleList([_ConvBlock(256, 512, **like), _ConvBlock(512, 1024, **like), _ConvBlock(1024, 2048, **like)])

    def forward(self, index_maps: Tensor) -> list[tuple[Tensor, Tensor]]:
        """``index_maps``: [B, 2, H, W] (handles, targets; see :func:`index_maps`). Returns, for levels
        0-3 (H/8 … H/64), the (handle, target) embeddings [B, 128·2^l, h_l, w_l]."""
        x = self.downsample_blocks_vae(self.conv_in(index_maps))
        levels = [x]
        for block in self.downsample_blocks_unet:
            x = block(x)
            levels.append(x)
        return [tuple(level.chunk(2, dim=1)) for level in levels]


def index_maps(points: DragPoints, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> Tensor:
    """The handle and target maps the network reads: [1, 2, height, width] of the points' image.

    Pixel (row ⌊y⌋, column ⌊x⌋) of a pair's handle (channel 0) and target (channel 1) holds the pair's
    1-based number, everything else 0 (the official ``points_to_disk_map``: single pixels, coordinates
    truncated). Where points of several pairs share a pixel, the later pair wins, as in the official
    indexed assignment.
    """
    maps = torch.zeros(2, points.height * points.width, dtype=torch.int64)
    numbers = torch.arange(1, len(points.handles) + 1)
    for channel, pts in enumerate((points.handles, points.targets)):
        xy = torch.tensor(pts, dtype=torch.float64).floor().long()
        flat = xy[:, 1] * points.width + xy[:, 0]
        maps[channel].scatter_reduce_(0, flat, numbers, reduce="amax")
    return maps.view(1, 2, points.height, points.width).to(device=device, dtype=dtype)


@torch.no_grad()
def embed_points(net: PointEmbeddingNet, points: DragPoints, device: torch.device) -> list[tuple[Tensor, Tensor]]:
    """Run ``net`` on ``device`` (where ComfyUI loaded it, or where its layers cast their weights to) on the
    points' index maps, in its compute dtype: per level 0-3, the (handle, target) embeddings
    [1, 128·2^l, h_l, w_l]."""
    return net(index_maps(points, net.compute_dtype, device))
