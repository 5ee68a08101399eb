"""Fixtures the LightningDrag tests share: random release files in the official formats, and the parts read from
them with a small UNet's inputs."""

import pytest
import torch

import lightningdrag_files as files
from drag_editing_dev.drag.lightningdrag import release
from drag_editing_dev.drag.lightningdrag.point_net import PointEmbeddingNet, embed_points
from drag_editing_dev.drag.points import DragPoints

from .common import LATENT, WIDTHS, attention_weights


@pytest.fixture(scope="module")
def release_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lightning_drag")
    files.write_release(folder / "lightning-drag-sd15", WIDTHS)
    files.write_ip_adapter(folder / "ip-adapter_sd15.bin", WIDTHS)
    return folder


@pytest.fixture(scope="module")
def parts(release_dir):
    root = release_dir / "lightning-drag-sd15"
    appearance = files.appearance_unet(WIDTHS)
    weights = attention_weights(
        release.read_point_attention(root / release.ATTENTION_FILE, WIDTHS, "W"),
        *release.read_ip_adapter(release_dir / "ip-adapter_sd15.bin", WIDTHS, "W"),
    )
    net = PointEmbeddingNet()
    net.load_state_dict(release.read_point_embedding(root / release.POINT_EMBEDDING_FILE, "W"))
    points = DragPoints.from_pairs([((40, 50), (70, 52)), ((90, 90), (88, 60))], 128, 128)
    levels = embed_points(net, points, torch.device("cpu"))
    torch.manual_seed(2)
    source = torch.randn(1, 4, *LATENT)
    text = torch.randn(1, 77, 768)
    embeds = torch.randn(1, 1024)
    return appearance, weights, levels, source, text, embeds
