"""DragBench's table: the evaluation's averaging (pairs for MD, samples for IF and time), per category."""

from __future__ import annotations

import math

import pytest

from drag.bench.report import compare, table, to_csv, to_json

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
