"""The point embedding network and its index maps (drag/lightningdrag/point_net.py)."""

import pytest
import torch

from drag_editing_dev.drag.lightningdrag.point_net import PointEmbeddingNet, embed_points, index_maps
from drag_editing_dev.drag.points import DragPoints


def test_point_network_has_the_official_keys_shapes_and_outputs():
    with torch.device("meta"):
        net = PointEmbeddingNet()
        levels = net(torch.zeros(1, 2, 512, 512))
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert len(shapes) == 13 and shapes["conv_in.weight"] == (32, 2, 3, 3)
    assert shapes["downsample_blocks_vae.2.conv2.weight"] == (256, 256, 3, 3)
    assert shapes["downsample_blocks_unet.0.conv1.weight"] == (512, 256, 3, 3)
    assert shapes["downsample_blocks_unet.2.conv2.weight"] == (2048, 2048, 3, 3)
    assert sum(v.numel() for v in net.parameters()) == pytest.approx(75.48e6, rel=1e-3)
    assert [tuple(h.shape) for h, _ in levels] == [(1, 128, 64, 64), (1, 256, 32, 32), (1, 512, 16, 16), (1, 1024, 8, 8)]


def test_index_maps_put_the_pair_number_on_one_pixel_per_point():
    points = DragPoints.from_pairs([((10.7, 3.2), (20.0, 5.9)), ((1.0, 1.0), (20.9, 5.1))], 32, 16)
    maps = index_maps(points)
    assert maps.shape == (1, 2, 16, 32)
    handles, targets = maps[0]
    assert handles[3, 10] == 1 and handles[1, 1] == 2 and int((handles != 0).sum()) == 2
    assert targets[5, 20] == 2 and int((targets != 0).sum()) == 1  # both targets truncate to (20, 5): the later pair wins


def test_point_embeddings_split_each_level_into_handle_and_target_halves():
    torch.manual_seed(0)
    net = PointEmbeddingNet()
    points = DragPoints.from_pairs([((40, 40), (80, 60))], 128, 96)
    levels = embed_points(net, points, torch.device("cpu"))
    whole = net.downsample_blocks_vae(net.conv_in(index_maps(points)))
    torch.testing.assert_close(torch.cat(levels[0], dim=1), whole)
    assert [tuple(h.shape[-2:]) for h, _ in levels] == [(12, 16), (6, 8), (3, 4), (2, 2)]
