"""The canvas preview's fixtures (tests/fixtures/warp_preview.json) are what the node's code computes now.

js/tests/warp_preview.test.mjs checks that the preview reproduces every map in that file; this test keeps
the file itself true to drag/fastdrag (regenerate it with tests/make_warp_preview_fixtures.py). The
fixture may have been written on a machine whose kernels round a few ulps differently: its borderline
pixels keep its destinations, every other pixel must land where it lands here.
"""

import json

import torch

from make_warp_preview_fixtures import FIXTURE, cases, fixture_text, relocation
from drag_editing_dev.drag.fastdrag.to_latent import mask_to_latent, points_to_latent
from drag_editing_dev.drag.points import DragPoints

DISCRETE = ("name", "width", "height", "aggregation", "pairs", "mask", "latent", "region", "handles", "targets", "outside_pair")


def test_the_fixture_file_is_what_the_warp_computes_now():
    current = json.loads(fixture_text())["cases"]
    stored = json.loads(FIXTURE.read_text())["cases"]
    assert [c["name"] + "/" + c["aggregation"] for c in stored] == [c["name"] + "/" + c["aggregation"] for c in current]
    for old, new, spec in zip(stored, current, cases()):
        label = f"{old['name']} ({old['aggregation']}) changed: run python tests/make_warp_preview_fixtures.py"
        # Quarter-pixel points, the region and the refusal are exact on every machine.
        assert {k: old.get(k) for k in DISCRETE} == {k: new.get(k) for k in DISCRETE}, label
        if "moved" not in old:
            continue
        points = DragPoints.from_pairs(spec["pairs"], spec["width"], spec["height"])
        region = mask_to_latent(spec["mask"][None])[0] if spec["mask"] is not None else torch.ones(old["latent"], dtype=torch.bool)
        src, _ = relocation(region, *points_to_latent(points), old["aggregation"], old["borderline"])
        src = src.flatten()
        moved = (src != torch.arange(src.numel())).nonzero()[:, 0]
        assert [[int(i), int(src[i])] for i in moved] == old["moved"], label
        assert len(old["borderline"]) <= len(old["moved"]) // 50
    assert sum(len(c.get("moved", [])) for c in stored) > 10_000 and any("outside_pair" in c for c in stored)
