"""The runner's bookkeeping with stand-in servers (the real ones are in tests/integration/test_dragbench.py): a
server that stops answering gives its samples back, a failed sample is recorded and cleared once it succeeds,
samples no server could take are reported, and a run folder keeps to one workflow."""

from __future__ import annotations

import io
import json
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drag_editing_dev.drag.bench.comfy_client import ComfyClient, ExecutionFailed
from drag_editing_dev.drag.bench.runner import RunFolder, run_samples
from drag_editing_dev.drag.bench.samples import Sample
from drag_editing_dev.drag.bench.workflow import BenchWorkflow
from drag_editing_dev.drag.errors import DragInputError

API = Path(__file__).resolve().parents[2] / "workflows" / "api"


class StandIn(ComfyClient):
    """A server that edits by returning the photo, fails the samples named in ``fail``, answers the fetch of those
    in ``garbled`` with something unexpected, and is unreachable when ``down``; it records the prompts it was
    given."""

    def __init__(self, url: str, down: bool = False, fail: tuple[str, ...] = (), garbled: tuple[str, ...] = ()):
        super().__init__(url)
        self.down, self.fail, self.garbled, self.prompts, self.uploads = down, set(fail), set(garbled), {}, {}

    def upload_image(self, data: bytes, name: str) -> str:
        if self.down:
            raise urllib.error.URLError("connection refused")
        self.uploads[name] = data
        return name

    def queue(self, prompt: dict) -> str:
        prompt_id = f"p{len(self.prompts)}"
        self.prompts[prompt_id] = prompt
        return prompt_id

    def wait(self, prompt_id: str, timeout: float, stop=None) -> dict:
        name = self.prompts[prompt_id]["2"]["inputs"]["image"]
        if any(key in name for key in self.fail):
            raise ExecutionFailed("FastDragWarp: the handle lies outside the circle", {})
        messages = [["execution_start", {"timestamp": 1000}], ["execution_success", {"timestamp": 3500}]]
        return {"outputs": {"11": {"images": [{"filename": name}]}}, "status": {"messages": messages}}

    def fetch(self, item: dict) -> bytes:
        if any(key in item["filename"] for key in self.garbled):
            raise KeyError("an answer of another shape")
        return self.uploads[item["filename"]]


def samples(tmp_path: Path, names=("a", "b", "c", "d")) -> list[Sample]:
    out = []
    for i, name in enumerate(names):
        image = tmp_path / "bench" / name / "original_image.png"
        image.parent.mkdir(parents=True)
        buffer = io.BytesIO()
        Image.fromarray(np.full((32, 32, 3), i * 40, np.uint8)).save(buffer, "PNG")
        image.write_bytes(buffer.getvalue())
        out.append(Sample("animals", name, image, "", (((8.0, 8.0), (20.0, 10.0)),), np.ones((32, 32), bool)))
    return out


@pytest.fixture
def bench() -> BenchWorkflow:
    return BenchWorkflow.of(json.loads((API / "Drag - FastDrag SD1.5, SD2.json").read_text()))


def test_a_server_that_stops_answering_gives_its_samples_to_the_others(tmp_path, bench):
    up, down = StandIn("http://up"), StandIn("http://down", down=True)
    folder = RunFolder(tmp_path / "run")
    outcome = run_samples(bench, samples(tmp_path), [down, up], folder, stream=io.StringIO())
    assert sorted(outcome.edited) == ["animals/a", "animals/b", "animals/c", "animals/d"] and not outcome.lost
    assert list(outcome.server_errors) == ["http://down"] and "connection refused" in outcome.server_errors["http://down"]
    record = json.loads((folder.path / "animals" / "a" / "edit.json").read_text())
    assert record["seconds"] == 2.5 and record["server"] == "http://up"
    assert sum(json.loads(folder.record(s).read_text())["cold"] for s in samples(tmp_path / "x")) == 1  # one server, one first edit


def test_a_failed_sample_is_recorded_and_cleared_when_a_later_run_edits_it(tmp_path, bench):
    folder = RunFolder(tmp_path / "run")
    first = run_samples(bench, samples(tmp_path), [StandIn("http://s", fail=("__b",))], folder, stream=io.StringIO())
    assert list(first.failed) == ["animals/b"] and "outside the circle" in folder.failures()["animals/b"]["error"]
    again = StandIn("http://s")
    second = run_samples(bench, samples(tmp_path / "same"), [again], folder, stream=io.StringIO())
    assert second.edited == ["animals/b"] and len(again.prompts) == 1  # only what was not done
    assert folder.failures() == {}


def test_samples_no_server_could_take_are_reported_lost(tmp_path, bench):
    outcome = run_samples(bench, samples(tmp_path), [StandIn("http://down", down=True)], RunFolder(tmp_path / "run"), stream=io.StringIO())
    assert sorted(outcome.lost) == ["animals/a", "animals/b", "animals/c", "animals/d"] and not outcome.edited


def test_a_run_folder_keeps_to_one_workflow(tmp_path, bench):
    folder = RunFolder(tmp_path / "run")
    folder.start(bench)
    folder.start(bench)
    other = BenchWorkflow.of(json.loads((API / "Drag - FastDrag SDXL.json").read_text()))
    with pytest.raises(DragInputError, match="another workflow"):
        folder.start(other)


def test_an_unexpected_error_fails_the_sample_not_the_run(tmp_path, bench):
    folder = RunFolder(tmp_path / "run")
    outcome = run_samples(bench, samples(tmp_path), [StandIn("http://s", garbled=("__c",))], folder, stream=io.StringIO())
    assert list(outcome.failed) == ["animals/c"] and len(outcome.edited) == 3
    assert folder.failures()["animals/c"]["error"].startswith("KeyError")
