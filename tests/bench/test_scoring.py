"""Scoring a run folder: the records the report reads, from ideal features, and a resumed scoring that scores
nothing twice."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import random_lpips_weights

from drag_editing_dev.drag.bench.metrics import AlexNetLPIPS
from drag_editing_dev.drag.bench.runner import RunFolder
from drag_editing_dev.drag.bench.samples import Sample
from drag_editing_dev.drag.bench.scoring import SCORES, score_run


def positional(image: torch.Tensor, prompt: str) -> torch.Tensor:
    """Ideal features: one-hot of each pixel's raster index, so a do-nothing edit matches every handle in place."""
    _, _, height, width = image.shape
    return torch.eye(height * width).reshape(1, height * width, height, width)


def test_a_do_nothing_edit_scores_if_one_and_the_drag_lengths(tmp_path):
    rng = np.random.default_rng(0)
    samples = []
    for name, pairs in (("a", (((2.0, 3.0), (8.0, 3.0)),)), ("b", (((1.0, 1.0), (4.0, 5.0)), ((6.0, 6.0), (6.0, 6.0)))), ("c", (((0.0, 0.0), (1.0, 1.0)),))):
        image = tmp_path / f"{name}.png"
        Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).save(image)
        samples.append(Sample("animals", name, image, "", pairs, np.ones((12, 16), bool)))
    folder = RunFolder(tmp_path / "run")
    for sample, seconds in zip(samples[:2], (1.5, 2.5)):  # c was never edited
        folder.save(sample, sample.image.read_bytes(), {"seconds": seconds, "cold": seconds == 1.5, "server": "s", "prompt_id": "p"})
    lpips = AlexNetLPIPS().load(*random_lpips_weights()).eval()
    calls = []

    def featurize(image, prompt):
        calls.append(prompt)
        return positional(image, prompt)

    records = score_run(folder, samples, featurize, lpips)
    assert [r["key"] for r in records] == ["animals/a", "animals/b"] and len(calls) == 4
    assert records[0]["distances"] == [6.0] and records[1]["distances"] == [5.0, 0.0]
    assert all(r["fidelity"] == 1.0 for r in records)
    assert (records[0]["seconds"], records[0]["cold"], records[1]["cold"]) == (1.5, True, False)
    assert json.loads((folder.path / SCORES).read_text()) == records

    folder.save(samples[2], samples[2].image.read_bytes(), {"seconds": 1.0, "cold": False, "server": "s", "prompt_id": "q"})
    again = score_run(folder, samples, featurize, lpips)
    assert len(calls) == 6 and [r["key"] for r in again] == ["animals/a", "animals/b", "animals/c"]
    assert again[2]["distances"] == [pytest.approx(2**0.5)]
