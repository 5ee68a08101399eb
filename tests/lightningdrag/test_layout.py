"""Where LightningDrag touches an SD1.5 UNet (drag/lightningdrag/layout.py)."""

from drag_editing_dev.drag.lightningdrag.layout import TRANSFORMER_BLOCKS


def test_layout_pairs_comfy_blocks_with_the_official_processor_indices():
    by_index = {b.processor_index: b for b in TRANSFORMER_BLOCKS}
    assert sorted(by_index) == list(range(0, 32, 2))
    assert {i for i, b in by_index.items() if b.embed_dim == 128} == {0, 2, 24, 26, 28}
    assert {i for i, b in by_index.items() if b.embed_dim == 256} == {4, 6, 18, 20, 22}
    assert {i for i, b in by_index.items() if b.embed_dim == 512} == {8, 10, 12, 14, 16}
    assert by_index[30].key == ("middle", 0) and by_index[30].embed_dim == 1024
    assert by_index[0].key == ("input", 1) and by_index[12].key == ("output", 3) and by_index[28].key == ("output", 11)
