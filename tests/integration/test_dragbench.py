"""DragBench end to end in a real ComfyUI (benchmarks/dragbench.py): three small samples in the official layout, the
FastDrag workflow on two servers, a run stopped and resumed, one sample that fails, then the scores (DIFT on a
random SD-2.x checkpoint, and on a random SD-2.1 diffusers folder; LPIPS on random weights in the official files'
layouts) and the report, alone and beside a second run."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from comfy_server import ComfyServer, comfyui_python
from conftest import DEVTOOLS
from helpers import random_lpips_weights

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "dragbench.py"
WORKFLOW = "Drag - FastDrag SD1.5, SD2"


def write_sample(root: Path, key: str, size: tuple[int, int], points: list, box: tuple[int, int, int, int], seed: int) -> None:
    """A sample in the official layout: a random photo, ``points`` alternating handle and target, the mask 1 in
    ``box`` (x0, y0, x1, y1)."""
    folder = root / key
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(folder / "original_image.png")
    mask = np.zeros(size[::-1], np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 1
    meta = {"prompt": f"a photo of {key}", "points": [np.array(p) for p in points], "mask": mask}
    (folder / "meta_data.pkl").write_bytes(pickle.dumps(meta))


@pytest.fixture(scope="module")
def sd21_diffusers(comfy_root, test_models) -> Path:
    """A random-weight SD-2.1 diffusers folder (make_rand_diffusers_sd21.py), made once into the test models' cache."""
    folder = test_models / "diffusers" / "rand-sd21"
    if not (folder / "model_index.json").is_file():
        script = DEVTOOLS / "make_rand_diffusers_sd21.py"
        subprocess.run([comfyui_python(comfy_root), str(script), str(folder)], check=True)
    return folder


@pytest.fixture(scope="module")
def second_server(comfy_root, test_models, tmp_path_factory):
    server = ComfyServer.start(comfy_root, tmp_path_factory.mktemp("comfyui_second"), test_models)
    yield server
    server.stop()


def _idle(server: ComfyServer, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = server.get("/queue")
        if not queue["queue_running"] and not queue["queue_pending"]:
            return True
        time.sleep(0.5)
    return False


def test_dragbench_runs_resumes_scores_and_reports(comfy, second_server, comfy_root, test_models, tiny_checkpoint, architecture, sd21_diffusers, tmp_path):
    bench = tmp_path / "DragBench"
    write_sample(bench, "animals/a", (64, 48), [[20, 24], [36, 22]], (8, 8, 56, 40), 0)
    write_sample(bench, "animals/b", (56, 56), [[16, 16], [24, 20], [40, 40], [34, 44]], (4, 4, 52, 52), 1)
    # FastDrag refuses a handle outside the circle around the editable region: this sample fails in the workflow.
    write_sample(bench, "art_work/c", (64, 64), [[60, 60], [50, 50]], (0, 0, 16, 16), 2)
    servers = [arg for s in (comfy, second_server) for arg in ("--server", s.url)]
    run = [
        sys.executable, str(SCRIPT), "run", "--dragbench", str(bench), "--workflow", WORKFLOW, "--out", str(tmp_path / "runs"),
        "--set", f"CheckpointLoaderSimple.ckpt_name={tiny_checkpoint}", "--set", "DragImageScale.size=64", "--set", "FastDragInvert.steps=4",
        *servers,
    ]
    folder = tmp_path / "runs" / WORKFLOW
    edits = {key: folder / key / "dragged_image.png" for key in ("animals/a", "animals/b", "art_work/c")}

    # Stopped (Ctrl+C) as soon as the first edit is saved: one prompt per server, the third sample not yet done.
    first = subprocess.Popen([*run, "--per-server", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 900
    while not any(p.is_file() for p in edits.values()) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 130, err
    done_first = {k: p.stat().st_mtime_ns for k, p in edits.items() if p.is_file()}
    assert 1 <= len(done_first) <= 2 and "Run the same command again" in err, err
    assert _idle(comfy) and _idle(second_server), "the stopped run left prompts on a server"

    resumed = subprocess.run(run, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert resumed.returncode == 1, resumed.stderr  # one sample failed
    assert "2 of 3 edited, 1 failed" in resumed.stderr, resumed.stderr
    for key, mtime in done_first.items():
        assert edits[key].stat().st_mtime_ns == mtime, f"{key} was edited again after the resume"
    assert edits["animals/a"].is_file() and edits["animals/b"].is_file() and not edits["art_work/c"].exists()
    failures = json.loads((folder / "failures.json").read_text())
    assert list(failures) == ["art_work/c"] and "circle" in failures["art_work/c"]["error"], failures
    records = {k: json.loads((folder / k / "edit.json").read_text()) for k in ("animals/a", "animals/b")}
    assert all(r["seconds"] > 0 for r in records.values()), records
    assert second_server.get("/history"), "the second server was given no sample"
    with Image.open(edits["animals/a"]) as image:
        assert image.size == (64, 48)  # the workflow's working size: width 64

    # A run of another workflow under the same name is refused.
    other = subprocess.run([*run, "--set", "FastDragInvert.steps=5"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert other.returncode == 2 and "another workflow" in other.stderr, other.stderr

    alexnet, heads = random_lpips_weights()
    torch.save(alexnet, tmp_path / "alexnet-owt-7be5be79.pth")
    torch.save(heads, tmp_path / "alex.pth")
    copy = tmp_path / "runs" / "copy"
    shutil.copytree(folder, copy)  # a second run, scored with the diffusers form of the model

    def score(run: Path, dift: Path, lpips: Path = tmp_path / "alex.pth", code: int = 0) -> str:
        done = subprocess.run(
            [comfyui_python(comfy_root), str(SCRIPT), "score", str(run), "--dragbench", str(bench), "--cpu",
             "--dift-checkpoint", str(dift), "--alexnet", str(tmp_path / "alexnet-owt-7be5be79.pth"), "--lpips", str(lpips)],
            capture_output=True, text=True, cwd=ROOT, timeout=1800, env={**os.environ, "COMFYUI_PATH": str(comfy_root)},
        )
        assert done.returncode == code, done.stderr[-4000:]
        return done.stderr

    assert "alex.pth; download it from https://github.com/richzhang" in score(folder, sd21_diffusers, tmp_path / "missing.pth", code=2)
    assert "ComfyUI detects it as SD15; MD's features are SD-2.1's" in score(folder, test_models / "checkpoints" / tiny_checkpoint, code=2)
    score(folder, test_models / "checkpoints" / architecture("sd20_v"))
    scores = {r["key"]: r for r in json.loads((folder / "scores.json").read_text())}
    assert sorted(scores) == ["animals/a", "animals/b"]
    assert len(scores["animals/a"]["distances"]) == 1 and len(scores["animals/b"]["distances"]) == 2
    for record in scores.values():
        assert all(0 <= d <= 64 * 2**0.5 for d in record["distances"]) and record["fidelity"] <= 1
    table = (folder / "report" / "table.csv").read_text().splitlines()
    assert table[0] == "group,samples,pairs,md,if,seconds" and table[1].startswith("all,2,3,") and table[2].startswith("animals,2,3,")
    page = (folder / "report" / "index.html").read_text()
    assert "../animals/a/dragged_image.png" in page and "failed: " in page and "circle" in page

    score(copy, sd21_diffusers)
    assert sorted(r["key"] for r in json.loads((copy / "scores.json").read_text())) == ["animals/a", "animals/b"]
    compared = subprocess.run(
        [sys.executable, str(SCRIPT), "report", str(folder), "--dragbench", str(bench), "--compare", str(copy)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert compared.returncode == 0, compared.stderr
    page = (folder / "report" / "compare_copy.html").read_text()
    assert "../../copy/animals/b/dragged_image.png" in page and page.count("MD ") >= 4
