"""DRAG_POINTS: ordered handle → target pairs placed on one image.

Coordinates are **image pixels, (x, y)**: x grows to the right, y grows down, (0, 0) is the top-left
corner of the image, and a point lies inside the image when ``0 <= x < width`` and
``0 <= y < height``. Coordinates are floats because the canvas stores sub-pixel positions.

The JSON document (what the points editor stores in a workflow)::

    {"width": 512, "height": 512,
     "pairs": [{"handle": [120.0, 200.0], "target": [180.0, 200.0]}, ...]}

Other top-level keys are ignored, so the editor may keep more state (e.g. its mask) in the same
document. For interoperability, a bare list of points is also read, in the form other packs' point
editors write (``[{"x": 120, "y": 200}, {"x": 180, "y": 200}, ...]`` or ``[[120, 200], [180, 200],
...]``): points alternate handle, target, handle, target; the image size then comes from the caller.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .errors import DragInputError

Point = tuple[float, float]

_JSON_EXAMPLE = '{"width": 512, "height": 512, "pairs": [{"handle": [120, 200], "target": [180, 200]}]}'


@dataclass(frozen=True)
class DragPoints:
    """Ordered handle → target pairs in image pixel coordinates (x, y) of a ``width`` × ``height`` image.

    Pair ``i`` asks for the content under ``handles[i]`` to move to ``targets[i]``. Construction
    validates everything (at least one pair, finite numbers, every point inside the image), so a
    ``DragPoints`` that exists is usable.
    """

    handles: tuple[Point, ...]
    targets: tuple[Point, ...]
    width: int
    height: int

    def __post_init__(self) -> None:
        _check_size_value("width", self.width)
        _check_size_value("height", self.height)
        if len(self.handles) != len(self.targets):
            raise DragInputError(
                f"points: {len(self.handles)} handles but {len(self.targets)} targets; every handle "
                "needs a target: place the missing target, or delete the unpaired handle."
            )
        if not self.handles:
            raise DragInputError(
                "points: no drag pairs. Place at least one handle → target pair (click the content to "
                f"move, then where it should go), or enter them as JSON, e.g. {_JSON_EXAMPLE}."
            )
        for i, (handle, target) in enumerate(zip(self.handles, self.targets), start=1):
            self._check_point(i, "handle", handle)
            self._check_point(i, "target", target)

    def _check_point(self, pair: int, role: str, point: Point) -> None:
        x, y = point
        if not (math.isfinite(x) and math.isfinite(y)):
            raise DragInputError(f"points: pair {pair} {role} is ({x}, {y}); coordinates must be finite numbers.")
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise DragInputError(
                f"points: pair {pair} {role} ({x:g}, {y:g}) lies outside the {self.width}×{self.height} image "
                f"(x must be in [0, {self.width}), y in [0, {self.height})). Move the point onto the image, "
                "or check that the points were placed on this image."
            )

    def __len__(self) -> int:
        return len(self.handles)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image the points refer to."""
        return self.width, self.height

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[Point, Point]], width: int, height: int) -> DragPoints:
        """Build from ``[((hx, hy), (tx, ty)), ...]`` in image pixels of a ``width`` × ``height`` image."""
        handles, targets = [], []
        for handle, target in pairs:
            handles.append((float(handle[0]), float(handle[1])))
            targets.append((float(target[0]), float(target[1])))
        return cls(tuple(handles), tuple(targets), width, height)

    @classmethod
    def from_json(cls, text: str, width: int | None = None, height: int | None = None) -> DragPoints:
        """Parse the JSON document described in the module docstring.

        ``width`` and ``height`` give the image size where the document carries none (the bare-list
        form, or an object without "width"/"height"); a size in the document wins (compare it with the
        image through :meth:`check_size`).
        """
        return cls.from_document(read_document(text), width, height)

    @classmethod
    def from_document(cls, doc: Any, width: int | None = None, height: int | None = None) -> DragPoints:
        """:meth:`from_json` on an already parsed document (see :func:`read_document`)."""
        if isinstance(doc, dict):
            return cls._from_object(doc, width, height)
        if isinstance(doc, list):
            return cls._from_point_list(doc, width, height)
        raise DragInputError(
            f"points: expected a JSON object or list, got a {type(doc).__name__}. Expected a document like {_JSON_EXAMPLE}."
        )

    @classmethod
    def _from_object(cls, doc: dict[str, Any], width: int | None, height: int | None) -> DragPoints:
        if "pairs" not in doc:
            raise DragInputError(f"points: the JSON object has no 'pairs' key. Expected a document like {_JSON_EXAMPLE}.")
        width, height = doc.get("width", width), doc.get("height", height)
        if width is None or height is None:
            raise DragInputError(f"points: the JSON object gives no image 'width' and 'height'. Expected a document like {_JSON_EXAMPLE}.")
        pairs = doc["pairs"]
        if not isinstance(pairs, list):
            raise DragInputError(f"points: 'pairs' must be a list of {{\"handle\": [x, y], \"target\": [x, y]}}, got {pairs!r:.60}.")
        parsed = []
        for i, pair in enumerate(pairs, start=1):
            if not isinstance(pair, dict):
                raise DragInputError(f"points: pair {i} must be an object {{\"handle\": [x, y], \"target\": [x, y]}}, got {pair!r:.60}.")
            if pair.get("handle") is None:
                raise DragInputError(f"points: pair {i} has no handle; give it a \"handle\": [x, y] or delete it.")
            if pair.get("target") is None:
                raise DragInputError(
                    f"points: pair {i} has a handle at {pair['handle']} but no target; place its target "
                    "(\"target\": [x, y]) or delete the pair."
                )
            parsed.append((_read_point(pair["handle"], f"pair {i} handle"), _read_point(pair["target"], f"pair {i} target")))
        return cls.from_pairs(parsed, _read_size(width, "width"), _read_size(height, "height"))

    @classmethod
    def _from_point_list(cls, doc: list[Any], width: int | None, height: int | None) -> DragPoints:
        if width is None or height is None:
            raise DragInputError(
                "points: a bare list of points carries no image size; use the object form "
                f"{_JSON_EXAMPLE}, or read it through a node that has the image."
            )
        points = [_read_point(p, f"point {i}") for i, p in enumerate(doc, start=1)]
        if len(points) % 2:
            x, y = points[-1]
            raise DragInputError(
                f"points: point {len(points)} ({x:g}, {y:g}) is a handle without a target (a point list "
                "alternates handle, target, handle, target, ...). Add its target or delete it."
            )
        return cls.from_pairs(zip(points[0::2], points[1::2]), width, height)

    def to_json(self) -> str:
        """The canonical JSON document; ``from_json(p.to_json()) == p``."""
        return json.dumps({
            "width": self.width,
            "height": self.height,
            "pairs": [{"handle": list(h), "target": list(t)} for h, t in zip(self.handles, self.targets)],
        })

    def rescaled(self, width: int, height: int) -> DragPoints:
        """The same pairs on the image resized to ``width`` × ``height`` (x scaled by width ratio, y by height ratio)."""
        sx, sy = width / self.width, height / self.height
        scale = lambda p: (p[0] * sx, p[1] * sy)  # noqa: E731
        return DragPoints(tuple(map(scale, self.handles)), tuple(map(scale, self.targets)), width, height)

    def check_size(self, width: int, height: int, what: str) -> None:
        """Raise unless the points were placed on an image of ``width`` × ``height``; ``what`` names that input."""
        if (width, height) != (self.width, self.height):
            raise DragInputError(
                f"points were placed on a {self.width}×{self.height} image but {what} is {width}×{height}. "
                "Place the points on the same image that is edited (or resize that image to "
                f"{self.width}×{self.height})."
            )


MAX_SIZE = 1 << 16
"""The largest image side, in pixels, a points document may name."""


def read_document(text: str) -> Any:
    """The parsed points document; every way a text can fail to be JSON becomes a :class:`DragInputError`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        problem = f"the JSON could not be read ({e})"
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        problem = f"the JSON has a value that cannot be read ({e})"
    except RecursionError:
        problem = "the JSON is nested too deeply"
    except TypeError:
        problem = f"expected JSON text, got {type(text).__name__}"
    raise DragInputError(f"points: {problem}. Expected a document like {_JSON_EXAMPLE}.") from None


def _digits(n: int) -> int:
    """How many decimal digits ``n`` has (without converting it: Python refuses to for huge ones)."""
    return max(1, int(abs(n).bit_length() * 0.30103) + 1)


def _check_size_value(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIZE:
        shown = f"a number of {_digits(value)} digits" if isinstance(value, int) and value > MAX_SIZE else repr(value)
        raise DragInputError(f"points: image {name} must be a whole number of pixels from 1 to {MAX_SIZE}, got {shown}.")


def _read_size(value: Any, name: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    _check_size_value(name, value)
    return value


def _read_point(value: Any, where: str) -> Point:
    if isinstance(value, dict):
        if "x" not in value or "y" not in value:
            raise DragInputError(f"points: {where} must have \"x\" and \"y\", got {value!r:.60}.")
        coords: Sequence[Any] = (value["x"], value["y"])
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        coords = value
    else:
        raise DragInputError(f"points: {where} must be [x, y] or {{\"x\": x, \"y\": y}}, got {value!r:.60}.")
    for c in coords:
        if isinstance(c, bool) or not isinstance(c, (int, float)):
            raise DragInputError(f"points: {where} has a coordinate {c!r:.60} that is not a number.")
        if isinstance(c, int) and abs(c) > MAX_SIZE:
            raise DragInputError(
                f"points: {where} has a coordinate of {_digits(c)} digits, far outside any image; "
                "coordinates are image pixels."
            )
    x, y = float(coords[0]), float(coords[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise DragInputError(f"points: {where} is ({x}, {y}); coordinates must be finite numbers.")
    return x, y
