"""Reading DragBench samples: both layouts, and a meta_data.pkl that asks to build anything but data."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from drag_editing_dev.drag.bench.samples import editor_document, read_pickle, read_samples
from drag_editing_dev.drag.editor import PAINTED, edit_runs, mask_edits
from drag_editing_dev.drag.errors import DragInputError
from drag_editing_dev.drag.points import DragPoints

MINI = Path(__file__).resolve().parents[3] / "shared" / "dragbench-mini"


def official_sample(root: Path, category: str, name: str, points, size=(40, 30), **meta) -> Path:
    folder = root / category / name
    folder.mkdir(parents=True)
    Image.new("RGB", size, (90, 120, 30)).save(folder / "original_image.png")
    mask = np.zeros(size[::-1], np.uint8)
    mask[5:20, 5:30] = 1
    data = {"prompt": "a photo of a cube", "points": points, "mask": mask, **meta}
    (folder / "meta_data.pkl").write_bytes(pickle.dumps(data))
    return folder


def test_the_official_layout_is_read_pairs_in_order(tmp_path):
    official_sample(tmp_path, "animals", "b", [[3, 4], [10, 12], [np.int64(20), np.int64(21)], [25, 22]])
    official_sample(tmp_path, "animals", "a", [[1, 1], [2, 2]])
    official_sample(tmp_path, "art_work", "c", [[1, 1], [2, 2]])
    samples = read_samples(tmp_path)
    assert [s.key for s in samples] == ["animals/a", "animals/b", "art_work/c"]
    b = samples[1]
    assert b.pairs == (((3.0, 4.0), (10.0, 12.0)), ((20.0, 21.0), (25.0, 22.0)))
    assert b.prompt == "a photo of a cube" and b.mask.shape == (30, 40) and b.mask.sum() == 15 * 25


@pytest.mark.skipif(not MINI.is_dir(), reason="../shared/dragbench-mini is not beside the repository")
def test_the_mini_layout_is_read():
    samples = read_samples(MINI)
    assert len(samples) == 10 and len({s.category for s in samples}) == 10
    for sample in samples:
        with Image.open(sample.image) as image:
            assert sample.mask.shape == image.size[::-1]
        assert 1 <= len(sample.pairs) <= 3 and sample.prompt


class Runs:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_pickle_that_asks_to_run_code_is_refused_unbuilt(tmp_path, capfd):
    path = tmp_path / "meta_data.pkl"
    path.write_bytes(pickle.dumps({"prompt": "x", "points": [], "mask": Runs()}))
    with pytest.raises(DragInputError, match=r"meta_data.pkl: not a DragBench meta_data.pkl \(it asks to build (posix|nt)\.system"):
        read_pickle(path)
    assert "pwned" not in capfd.readouterr().out


def test_data_only_pickles_round_trip(tmp_path):
    data = {"prompt": "p", "points": [[1, 2], (3, 4)], "mask": np.eye(3, dtype=np.uint8), "n": np.float32(1.5)}
    path = tmp_path / "meta_data.pkl"
    path.write_bytes(pickle.dumps(data))
    read = read_pickle(path)
    assert read["points"] == [[1, 2], (3, 4)] and read["n"] == 1.5 and np.array_equal(read["mask"], data["mask"])
    path.write_bytes(b"\x80\x04not a pickle")
    with pytest.raises(DragInputError, match="not a DragBench meta_data.pkl"):
        read_pickle(path)


@pytest.mark.parametrize("points, message", [
    ([[1, 1]], "must alternate handle and target"),
    ([[1, 1], [2, float("nan")]], r"each point must be \[x, y\]"),
    ([[1, 1], [45, 2]], r"pair 1 target \(45, 2\) lies outside the 40×30 image"),
])
def test_bad_points_name_the_sample(tmp_path, points, message):
    official_sample(tmp_path, "animals", "a", points)
    with pytest.raises(DragInputError, match=message):
        read_samples(tmp_path)


def test_an_empty_folder_says_what_layout_is_expected(tmp_path):
    with pytest.raises(DragInputError, match="no sample under .*original_image.png"):
        read_samples(tmp_path)


def test_the_editor_document_places_the_sample_on_the_scaled_image(tmp_path):
    official_sample(tmp_path, "animals", "a", [[4, 6], [20, 12]])
    sample, = read_samples(tmp_path)
    text = editor_document(sample, 80, 60)  # twice the 40×30 image
    points = DragPoints.from_json(text)
    assert points.size == (80, 60) and points.handles == ((8.0, 12.0),) and points.targets == ((40.0, 24.0),)
    edits = mask_edits(json.loads(text), 80, 60)
    expected = np.kron(sample.mask, np.ones((2, 2), bool))  # nearest neighbour, doubled
    assert np.array_equal(edits.numpy() == PAINTED, expected) and set(np.unique(edits.numpy())) == {0, PAINTED}


def test_edit_runs_is_mask_edits_inverse():
    rng = np.random.default_rng(3)
    edits = torch.from_numpy(rng.integers(0, 3, (7, 9), dtype=np.uint8))
    runs = edit_runs(edits)
    assert torch.equal(mask_edits({"mask": {"runs": runs}}, 9, 7), edits)
    assert edit_runs(torch.zeros(2, 3, dtype=torch.uint8)) == [0, 6]
