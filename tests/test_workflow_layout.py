"""The example workflows' layout: no node covers another (the editor's canvas must stay visible)."""

import json
from itertools import combinations
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / "workflows").glob("*.json"))
TITLE = 30  # LiteGraph draws a node's title bar above its position


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_no_node_overlaps_another(path):
    nodes = json.loads(path.read_text())["nodes"]
    boxes = {n["id"]: (n["pos"][0], n["pos"][1] - TITLE, n["pos"][0] + n["size"][0], n["pos"][1] + n["size"][1]) for n in nodes}
    for (a, (ax0, ay0, ax1, ay1)), (b, (bx0, by0, bx1, by1)) in combinations(boxes.items(), 2):
        assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, f"nodes {a} and {b} overlap"
    editor = next((n for n in nodes if n["type"] == "DragPointsEditor"), None)
    if editor is not None:
        assert editor["size"][1] >= 560  # room for its canvas
