"""DragBench's metrics on what can be known without real weights: a do-nothing edit, ideal features, a
planted match, and the protocol's resizing and averaging."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from helpers import random_lpips_weights

from drag_editing_dev.drag.bench.metrics import AlexNetLPIPS, image_fidelity, load_lpips, match_distances, protocol_pair
from drag_editing_dev.drag.errors import DragInputError


def random_lpips(seed: int = 0) -> AlexNetLPIPS:
    """An AlexNet LPIPS with random weights, loaded through the official files' key layout."""
    return AlexNetLPIPS().load(*random_lpips_weights(seed)).eval()


def positional_features(height: int, width: int) -> torch.Tensor:
    """Ideal features: each pixel's is unique and most like itself (a one-hot of its raster index)."""
    return torch.eye(height * width).reshape(1, height * width, height, width)


def test_a_do_nothing_edit_has_if_one():
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    lpips = random_lpips()
    assert image_fidelity(lpips, *protocol_pair(image, image.copy())) == 1.0
    other = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    assert image_fidelity(lpips, *protocol_pair(image, other)) < 1.0


def test_with_ideal_features_md_is_the_drag_length():
    features = positional_features(12, 16)
    pairs = [((3, 4), (9, 4)), ((10, 2), (7, 6)), ((0, 0), (0, 0))]
    distances = match_distances(features, features.clone(), pairs)
    assert distances.tolist() == [6.0, 5.0, 0.0]  # a do-nothing edit: each handle still where it was


def test_a_planted_match_gives_its_distance_and_the_first_maximum_wins():
    source = torch.zeros(1, 4, 10, 10)
    source[0, :, 2, 3] = torch.tensor([1.0, 2.0, 0.0, 0.0])  # the handle (x 3, y 2)
    edited = torch.zeros(1, 4, 10, 10)
    edited[0, 0] = 0.1  # everything else points elsewhere ...
    edited[0, 2] = 1.0
    edited[0, :, 7, 8] = torch.tensor([2.0, 4.0, 0.0, 0.0])  # ... the same direction at (x 8, y 7)
    edited[0, :, 9, 9] = torch.tensor([1.0, 2.0, 0.0, 0.0])  # and again later in raster order
    target = (5, 3)
    assert match_distances(source, edited, [((3, 2), target)]).tolist() == [float(np.hypot(7 - 3, 8 - 5))]


def test_md_averages_pairs_not_images():
    # Two images, one with one pair and one with three: the mean weighs each pair once.
    features = positional_features(8, 8)
    one = match_distances(features, features, [((0, 0), (4, 0))])
    three = match_distances(features, features, [((0, 0), (0, 1)), ((0, 0), (0, 1)), ((0, 0), (0, 1))])
    pairs = torch.cat([one, three])
    assert pairs.mean().item() == pytest.approx(7 / 4)
    assert pairs.mean().item() != pytest.approx((one.mean() + three.mean()).item() / 2)


def test_the_protocol_resizes_the_edit_to_the_source_with_pil_bilinear_then_both_to_224():
    rng = np.random.default_rng(1)
    source = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    edited = Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))
    a, b = protocol_pair(source, edited)
    expected = np.asarray(edited.resize((40, 30), Image.BILINEAR), np.float32) / 127.5 - 1
    assert a.shape == b.shape == (1, 3, 30, 40) and torch.equal(b[0].permute(1, 2, 0), torch.from_numpy(expected))
    assert a.min() >= -1 and a.max() <= 1

    seen = []

    class Recording(AlexNetLPIPS):
        def forward(self, x, y):
            seen.append((x.shape, y.shape, x.clone()))
            return torch.zeros(x.shape[0])

    image_fidelity(Recording(), a, b)
    (xs, ys, x), = seen
    assert xs == ys == (1, 3, 224, 224)
    assert torch.equal(x, F.interpolate(a, (224, 224), mode="bilinear", align_corners=False))


def test_lpips_refuses_a_file_of_another_layout():
    with pytest.raises(KeyError):
        AlexNetLPIPS().load({}, {})


def test_the_weight_files_are_read_as_tensors_and_a_missing_or_wrong_one_is_named(tmp_path):
    alexnet, heads = random_lpips_weights()
    torch.save(alexnet, tmp_path / "alexnet-owt-7be5be79.pth")
    torch.save(heads, tmp_path / "alex.pth")
    loaded = load_lpips(tmp_path / "alexnet-owt-7be5be79.pth", tmp_path / "alex.pth")
    assert torch.equal(loaded.lins[4].weight, heads["lin4.model.1.weight"])
    with pytest.raises(DragInputError, match=r"--lpips .*nowhere.pth: no such file.*alex.pth.*PerceptualSimilarity"):
        load_lpips(tmp_path / "alexnet-owt-7be5be79.pth", tmp_path / "nowhere.pth")
    with pytest.raises(DragInputError, match="do not hold AlexNet"):
        load_lpips(tmp_path / "alex.pth", tmp_path / "alex.pth")
    torch.save({"code": Image.new("RGB", (1, 1))}, tmp_path / "object.pth")  # not tensors: weights_only refuses it
    with pytest.raises(DragInputError, match="--alexnet .*object.pth: not a weights file"):
        load_lpips(tmp_path / "object.pth", tmp_path / "alex.pth")
