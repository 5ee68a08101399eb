"""Score a run's edits with DragBench's metrics (metrics.py), into ``scores.json`` beside them.

The features come through ``featurize(image, prompt) -> (1, C, H, W)``, DIFT's features of a (1, 3, H, W) image
in [-1, 1] at its size (dift.py; the command line builds it from an SD-2.1 checkpoint in ComfyUI). A record per
edited sample, as report.py reads them: ``{"key", "category", "distances", "fidelity", "seconds", "cold"}``;
``seconds`` and ``cold`` come from the edit's ``edit.json``. Scoring resumes too: a sample already in
``scores.json`` is not scored again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch
from PIL import Image

from .metrics import AlexNetLPIPS, image_fidelity, match_distances, protocol_pair
from .runner import RunFolder
from .samples import Sample

SCORES = "scores.json"


def score_sample(sample: Sample, edit: Path, featurize: Callable[[torch.Tensor, str], torch.Tensor], lpips: AlexNetLPIPS) -> dict:
    """MD's distances (one per pair, pixels of the source image) and IF of one edit, as the evaluation takes them:
    the edit resized to the source's size first, the source's features before the edit's."""
    with Image.open(sample.image) as source, Image.open(edit) as edited:
        source_tensor, edited_tensor = protocol_pair(source, edited)
    with torch.no_grad():
        source_features = featurize(source_tensor, sample.prompt)
        edited_features = featurize(edited_tensor, sample.prompt)
    distances = match_distances(source_features, edited_features, sample.pairs)
    return {"key": sample.key, "category": sample.category, "distances": distances.tolist(),
            "fidelity": image_fidelity(lpips, source_tensor, edited_tensor)}


def score_run(
    folder: RunFolder,
    samples: list[Sample],
    featurize: Callable[[torch.Tensor, str], torch.Tensor],
    lpips: AlexNetLPIPS,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Score every sample of ``samples`` edited in ``folder`` and not scored yet; all records of the run (those of
    ``scores.json`` first), written back after each sample. ``progress(done, total)`` follows the scoring."""
    path = folder.path / SCORES
    records = {r["key"]: r for r in json.loads(path.read_text())} if path.is_file() else {}
    todo = [s for s in samples if folder.done(s) and s.key not in records]
    for i, sample in enumerate(todo, start=1):
        edit = json.loads(folder.record(sample).read_text())
        records[sample.key] = score_sample(sample, folder.edit(sample), featurize, lpips) | {"seconds": edit["seconds"], "cold": edit["cold"]}
        path.write_text(json.dumps(list(records.values()), indent=1))
        if progress is not None:
            progress(i, len(todo))
    return list(records.values())
