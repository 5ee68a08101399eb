"""The canvas preview's fixtures (tests/fixtures/warp_preview.json) are what the node's code computes now.

js/tests/warp_preview.test.mjs checks that the preview reproduces every map in that file exactly; this
test keeps the file itself true to drag/fastdrag (regenerate it with tests/make_warp_preview_fixtures.py).
"""

import json

from make_warp_preview_fixtures import FIXTURE, fixture_text


def test_the_fixture_file_is_what_the_warp_computes_now():
    current = json.loads(fixture_text())["cases"]
    stored = json.loads(FIXTURE.read_text())["cases"]
    assert [c["name"] + "/" + c["aggregation"] for c in stored] == [c["name"] + "/" + c["aggregation"] for c in current]
    for old, new in zip(stored, current):
        assert old == new, f"{old['name']} ({old['aggregation']}) changed: run python tests/make_warp_preview_fixtures.py"
    assert sum(len(c.get("moved", [])) for c in stored) > 10_000 and any("outside_pair" in c for c in stored)
