"""DragBench's table: the evaluation's averaging (pairs for MD, samples for IF and time), per category."""

from __future__ import annotations

import math

import pytest

from drag_editing_dev.drag.bench.report import RunView, SampleView, compare, table, to_csv, to_html, to_json

RECORDS = [
    {"key": "animals/a", "category": "animals", "distances": [10.0], "fidelity": 0.9, "seconds": 2.0},
    {"key": "animals/b", "category": "animals", "distances": [1.0, 1.0, 1.0], "fidelity": 0.7, "seconds": 4.0},
    {"key": "art_work/c", "category": "art_work", "distances": [4.0, 6.0], "fidelity": 0.8, "seconds": 3.0},
]


def test_md_averages_pairs_and_if_and_time_average_samples():
    overall, animals, art = table(RECORDS)
    assert (overall.group, overall.samples, overall.pairs) == ("all", 3, 6)
    assert overall.md == pytest.approx(23 / 6)  # not the mean of the samples' means (4.33)
    assert overall.fidelity == pytest.approx(0.8) and overall.seconds == pytest.approx(3.0)
    assert (animals.group, animals.pairs, animals.md) == ("animals", 4, pytest.approx(13 / 4))
    assert (art.group, art.md, art.fidelity) == ("art_work", 5.0, 0.8)


def test_csv_and_json():
    rows = table(RECORDS)
    lines = to_csv(rows).splitlines()
    assert lines[0] == "group,samples,pairs,md,if,seconds"
    assert lines[1] == "all,3,6,3.8333,0.8000,3.000"
    assert to_json(rows)[2] == {"group": "art_work", "samples": 1, "pairs": 2, "md": 5.0, "fidelity": 0.8, "seconds": 3.0}


def test_two_runs_side_by_side_keep_every_group():
    a = table(RECORDS)
    b = table(RECORDS[:2])
    groups = compare(a, b)
    assert [g for g, _, _ in groups] == ["all", "animals", "art_work"]
    assert groups[2][1] is not None and groups[2][2] is None


def test_no_records_and_a_sample_without_pairs():
    with pytest.raises(ValueError):
        table([])
    row, _ = table([{"key": "x/y", "category": "x", "distances": [], "fidelity": 1.0, "seconds": 1.0}])
    assert math.isnan(row.md) and row.pairs == 0


def test_seconds_leave_out_each_servers_first_edit_where_there_are_others():
    records = [r | {"cold": i == 0} for i, r in enumerate(RECORDS)]
    assert table(records)[0].seconds == pytest.approx(3.5)  # 4 and 3; the first (2 s) loaded the models
    assert table(records[:1])[0].seconds == 2.0  # only a cold one: it is all there is
    untimed = [r | {"seconds": None} for r in RECORDS]
    assert math.isnan(table(untimed)[0].seconds)


def test_the_page_shows_the_table_and_each_sample_of_each_run():
    sample = SampleView("animals/a", "a <cat>", "sources/animals__a.jpg", (64, 48), (((10, 20), (30, 22)),))
    failed = SampleView("art_work/c", "", "sources/art_work__c.jpg", (32, 32), (((1, 1), (2, 2)),))
    records = {"animals/a": RECORDS[0]}
    a = RunView("A", table(RECORDS[:1]), records, {"art_work/c": "a handle <outside>"}, {"animals/a": "../animals/a/dragged_image.png"})
    b = RunView("B", table(RECORDS[:1]), records, {}, {"animals/a": "../../B/animals/a/dragged_image.png"})
    page = to_html("DragBench: A vs B", [a, b], [sample, failed])
    assert page.count("<tr>") == 2 + 2 + 3  # two header rows and two groups; the samples' header and two samples
    assert 'x1="10" y1="20" x2="30" y2="22"' in page and 'viewBox="0 0 64 48"' in page
    assert "../../B/animals/a/dragged_image.png" in page and "MD 10.00 px · IF 0.900" in page
    assert "failed: a handle &lt;outside&gt;" in page and "not run" in page and "a &lt;cat&gt;" in page
