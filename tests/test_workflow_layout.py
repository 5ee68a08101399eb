"""The example workflows' layout and Templates browser entries: no node covers another (the editor's canvas
must stay visible), each points editor has its result beside it, and each workflow has its notes and its
thumbnail. tests/integration/test_workflows_browser.py checks the layout again in the real frontend."""

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / "workflows").glob("*.json"))
TITLE = 30  # LiteGraph draws a node's title bar above its position
RESULTS = {"SaveImage", "PreviewImage"}


def _nodes(path: Path) -> list[dict]:
    return json.loads(path.read_text())["nodes"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_no_node_overlaps_another(path):
    nodes = _nodes(path)
    boxes = {n["id"]: (n["pos"][0], n["pos"][1] - TITLE, n["pos"][0] + n["size"][0], n["pos"][1] + n["size"][1]) for n in nodes}
    for (a, (ax0, ay0, ax1, ay1)), (b, (bx0, by0, bx1, by1)) in combinations(boxes.items(), 2):
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, f"nodes {a} and {b} overlap"
    editor = next((n for n in nodes if n["type"] == "DragPointsEditor"), None)
    if editor is not None:
        assert editor["size"][1] >= 560  # room for its canvas


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_each_editor_has_a_result_on_its_right(path):
    nodes = _nodes(path)
    editors = [n for n in nodes if n["type"] == "DragPointsEditor"]
    assert editors
    for editor in editors:
        right = [n for n in nodes if n["pos"][1] == editor["pos"][1] and n["pos"][0] > editor["pos"][0]]
        nearest = min(right, key=lambda n: n["pos"][0], default=None)
        assert nearest is not None and nearest["type"] in RESULTS, f"node {editor['id']}: no result preview on its right"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_each_workflow_has_a_note_and_a_thumbnail(path):
    notes = [n for n in _nodes(path) if n["type"] == "Note"]
    assert notes and all(len(n["widgets_values"][0]) > 100 for n in notes)
    with Image.open(path.with_suffix(".jpg")) as thumbnail:  # the Templates browser shows <name>.jpg
        assert thumbnail.format == "JPEG" and thumbnail.width == thumbnail.height >= 256  # the cards show a square


def test_the_thumbnails_tell_the_workflows_apart():
    """Their editors alone look alike: each card's caption band (make_workflow_thumbnails.py) says what sets the
    workflow apart, so no two bands are alike."""
    bands = {p.stem: np.asarray(Image.open(p.with_suffix(".jpg")).convert("L"), float)[-84:] for p in WORKFLOWS}  # make_workflow_thumbnails.BAND
    for (a, band_a), (b, band_b) in combinations(bands.items(), 2):
        assert band_a.shape == band_b.shape and np.abs(band_a - band_b).mean() > 5, (a, b)


def test_lightningdrag_workflows_show_four_candidates():
    """As the official demo: four candidates per run, all in the preview."""
    lightning = [p for p in WORKFLOWS if "LightningDrag" in p.stem]
    assert lightning
    for path in lightning:
        samplers = [n for n in json.loads((path.parent / "api" / path.name).read_text()).values() if n["class_type"] == "DragKSampler"]
        assert samplers and all(n["inputs"]["candidates"] == 4 for n in samplers), path.name
