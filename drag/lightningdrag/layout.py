"""Where LightningDrag touches an SD1.5 UNet: its 16 transformer blocks, named three ways.

* ComfyUI names a transformer block by ``(block, id)``: ``("input", 1)``, ``("middle", 0)``,
  ``("output", 11)``… (``extra_options["block"]``; the transformer index inside it is always 0 on SD1.5).
* diffusers (and so the official appearance encoder file) by module path, e.g.
  ``down_blocks.0.attentions.1``.
* The official ``lightning-drag-sd15-attn.bin`` by the position of the block's processors in
  diffusers' ``unet.attn_processors`` (down, up, then mid; ``2k`` = self-attention, ``2k + 1`` =
  cross-attention), which is also IP-Adapter's numbering.

Each block also has a scale level (0 = 1/8 of the image, … 3 = 1/64) that picks the point embedding
of its resolution; the point network's channels at level ``l`` are ``128 · 2^l`` per half.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..comfy_protocol import BlockKey, layer_key


@dataclass(frozen=True)
class TransformerBlock:
    """One SD1.5 transformer block. ``level``: 0-3 (image / 8 … / 64); ``diffusers``: its module path."""

    key: BlockKey
    diffusers: str
    processor_index: int  # of its self-attention; its cross-attention is processor_index + 1
    level: int

    @property
    def embed_dim(self) -> int:
        """Channels of one half (handle or target) of the point embedding at this block's level."""
        return POINT_EMBED_DIMS[self.level]


POINT_EMBED_DIMS = (128, 256, 512, 1024)
"""Channels per half of the point embedding at levels 0-3 (the official ``output_dim``)."""


def _blocks() -> tuple[TransformerBlock, ...]:
    blocks = []
    index = 0
    for level in range(3):  # down_blocks 0-2 each have two attentions: input blocks 1,2 / 4,5 / 7,8
        for a in range(2):
            blocks.append(TransformerBlock(("input", 3 * level + 1 + a), f"down_blocks.{level}.attentions.{a}", index, level))
            index += 2
    for up in range(1, 4):  # up_blocks 1-3 each have three attentions: output blocks 3-5 / 6-8 / 9-11
        for a in range(3):
            blocks.append(TransformerBlock(("output", 3 * up + a), f"up_blocks.{up}.attentions.{a}", index, 3 - up))
            index += 2
    blocks.append(TransformerBlock(("middle", 0), "mid_block.attentions.0", index, 3))
    return tuple(blocks)


TRANSFORMER_BLOCKS = _blocks()
"""The 16 SD1.5 transformer blocks, in diffusers' processor order (down, up, mid)."""

BY_KEY = {block.key: block for block in TRANSFORMER_BLOCKS}


def block_key(extra_options: dict) -> BlockKey | None:
    """The ``(block, id)`` of the SD1.5 transformer block a ComfyUI attention patch is called for (its one
    layer, index 0), or None."""
    key = layer_key(extra_options)
    return key[:2] if key is not None and key[2] == 0 else None
