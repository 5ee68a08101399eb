"""DragBench samples, read from a folder in the official layout or in the layout of ``dragbench-mini``.

Official layout: ``<root>/<category>/<sample>/original_image.png`` and ``meta_data.pkl``, a pickle holding
``prompt`` (str), ``points`` (alternating handle and target ``[x, y]`` in image pixels) and ``mask`` (uint8
H × W, 1 = may change). The mini layout has ``drag.json`` (``width``, ``height``, ``prompt``, ``pairs``:
``[{"handle": [x, y], "target": [x, y]}, ...]``) and ``mask.png`` (255 = may change) instead, with the
category before ``__`` in the sample folder's name.

``meta_data.pkl`` comes from the internet: it is read with an unpickler that builds only what the format
holds (dicts, lists, tuples, strings, numbers and numpy arrays) and refuses anything else, by name, without
running it.
"""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..editor import PAINTED, edit_runs
from ..errors import DragInputError, shown
from ..points import DragPoints

IMAGE = "original_image.png"
META = "meta_data.pkl"
MINI_META = "drag.json"
MINI_MASK = "mask.png"

# What a numpy array or scalar pickles to, under numpy 1 and numpy 2 module names; nothing else is built.
_NUMPY_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype")}


class _DataOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D102 (pickle's hook)
        if (module, name) in _NUMPY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it asks to build {shown(module, 60)}.{shown(name, 60)}, which a DragBench sample never holds")


def read_pickle(path: Path) -> object:
    """The data in the pickle at ``path``: dicts, lists, tuples, strings, numbers and numpy arrays only.
    Anything else in it (a class, a function to call) is refused with a DragInputError naming the file,
    before it is built."""
    try:
        return _DataOnly(io.BytesIO(path.read_bytes())).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as error:
        raise DragInputError(
            f"{path}: not a DragBench meta_data.pkl ({shown(error, 160)}). It was not loaded. Use the file as the "
            "benchmark publishes it (github.com/Yujun-Shi/DragDiffusion, drag_bench_data)."
        ) from None


@dataclass(frozen=True)
class Sample:
    """One DragBench sample. ``pairs``: ((handle, target), ...) with each point (x, y) in image pixels of
    ``image`` (origin top-left); ``mask``: H × W bool, True where the image may change."""

    category: str
    name: str
    image: Path
    prompt: str
    pairs: tuple[tuple[tuple[float, float], tuple[float, float]], ...]
    mask: np.ndarray

    @property
    def key(self) -> str:
        """``<category>/<sample>``: where its results go, and its name in reports."""
        return f"{self.category}/{self.name}"

    @property
    def size(self) -> tuple[int, int]:
        """The image's (width, height) in pixels: the mask's, which :func:`read_samples` checks against the image."""
        return self.mask.shape[1], self.mask.shape[0]


def _pairs_from_points(points: object, where: str) -> tuple:
    if not isinstance(points, (list, tuple)) or len(points) < 2 or len(points) % 2:
        raise DragInputError(f"{where}: 'points' must alternate handle and target [x, y]; found {shown(points, 120)}.")
    xy = []
    for point in points:
        values = np.asarray(point, dtype=float).reshape(-1)
        if values.shape != (2,) or not np.isfinite(values).all():
            raise DragInputError(f"{where}: each point must be [x, y] in pixels; found {shown(point, 60)}.")
        xy.append((float(values[0]), float(values[1])))
    return tuple(zip(xy[0::2], xy[1::2]))


def _official(folder: Path, category: str) -> Sample:
    meta = read_pickle(folder / META)
    where = str(folder / META)
    if not isinstance(meta, dict) or not {"prompt", "points", "mask"} <= meta.keys():
        raise DragInputError(f"{where}: expected a dict with 'prompt', 'points' and 'mask'; found {shown(type(meta).__name__)}"
                             f"{' with ' + shown(sorted(map(str, meta)), 120) if isinstance(meta, dict) else ''}.")
    mask = np.asarray(meta["mask"])
    if mask.ndim != 2:
        raise DragInputError(f"{where}: 'mask' must be H × W; found shape {mask.shape}.")
    return Sample(category, folder.name, folder / IMAGE, str(meta["prompt"]), _pairs_from_points(meta["points"], where), mask > 0)


def _mini(folder: Path) -> Sample:
    where = str(folder / MINI_META)
    meta = json.loads((folder / MINI_META).read_text())
    points = [p for pair in meta.get("pairs", []) for p in (pair.get("handle"), pair.get("target"))]
    mask = np.asarray(Image.open(folder / MINI_MASK).convert("L")) > 127
    category = folder.name.split("__")[0]
    return Sample(category, folder.name, folder / IMAGE, str(meta.get("prompt", "")), _pairs_from_points(points, where), mask)


def read_samples(root: Path) -> list[Sample]:
    """Every sample under ``root`` (official layout, or mini layout), sorted by category and name. Each
    sample's mask and points are checked against its image's size."""
    root = Path(root)
    if not root.is_dir():
        raise DragInputError(f"dragbench: {shown(root)} is not a folder. Give the folder holding the benchmark's category folders.")
    samples = []
    for meta in sorted(root.glob(f"*/*/{META}")):
        samples.append(_official(meta.parent, meta.parent.parent.name))
    for meta in sorted(root.glob(f"*/{MINI_META}")):
        samples.append(_mini(meta.parent))
    if not samples:
        raise DragInputError(
            f"dragbench: no sample under {shown(root)}. Expected <category>/<sample>/{META} with {IMAGE} beside it "
            f"(the official layout) or <sample>/{MINI_META} with {IMAGE} and {MINI_MASK} (dragbench-mini)."
        )
    for sample in samples:
        _check(sample)
    return sorted(samples, key=lambda s: (s.category, s.name))


def _check(sample: Sample) -> None:
    if not sample.image.is_file():
        raise DragInputError(f"{sample.key}: {IMAGE} is missing beside its points.")
    with Image.open(sample.image) as image:
        width, height = image.size
    if sample.mask.shape != (height, width):
        raise DragInputError(f"{sample.key}: the mask is {sample.mask.shape[1]}×{sample.mask.shape[0]}, the image {width}×{height}.")
    for i, pair in enumerate(sample.pairs, start=1):
        for role, (x, y) in zip(("handle", "target"), pair):
            if not (0 <= x < width and 0 <= y < height):
                raise DragInputError(f"{sample.key}: pair {i} {role} ({x:g}, {y:g}) lies outside the {width}×{height} image.")


def editor_document(sample: Sample, width: int, height: int) -> str:
    """The DragPointsEditor document that places ``sample``'s pairs and editable region on its image scaled to
    ``width`` × ``height`` (what a workflow's Scale Image for Drag gives the editor): points scaled with the
    image (x · width / W, y · height / H), the mask resized by nearest neighbour and painted in."""
    source_width, source_height = sample.size
    sx, sy = width / source_width, height / source_height
    points = DragPoints.from_pairs((((x0 * sx, y0 * sy), (x1 * sx, y1 * sy)) for (x0, y0), (x1, y1) in sample.pairs), width, height)
    mask = Image.fromarray(sample.mask.astype(np.uint8) * 255).resize((width, height), Image.NEAREST)
    painted = torch.from_numpy((np.asarray(mask) > 127).astype(np.uint8) * PAINTED)
    return json.dumps(json.loads(points.to_json()) | {"mask": {"runs": edit_runs(painted)}})
