"""Checks of widget values that ComfyUI's own validation lets through.

ComfyUI compares a FLOAT widget with its min and max, and every comparison with NaN is false, so NaN
reaches a node unchecked (through the API or a saved workflow; ``json`` reads ``NaN``). It also skips
that comparison for an input that the node's ``validate_inputs`` takes. So a node lists its float inputs
in ``validate_inputs`` (the prompt is refused before anything runs) and checks them again when it runs
(a value that arrives through a link is only known then); both go through :func:`float_problem`.
"""

from __future__ import annotations

import math

from comfy_api.v0_0_2 import io

from ..drag.errors import DragInputError


def _float_input(node: type[io.ComfyNode], name: str) -> io.Float.Input:
    for spec in node.define_schema().inputs:
        if spec.id == name and isinstance(spec, io.Float.Input):
            return spec
    raise KeyError(f"{node.__name__} has no float input {name!r}")


def float_problem(node: type[io.ComfyNode], name: str, value: float | None) -> str | None:
    """What is wrong with ``value`` for the float input ``name`` of ``node`` (NaN, infinite, outside the
    widget's range), as a message naming the input, the value and the fix; None when it is fine or not
    known yet (``None``: a link, checked when the node runs)."""
    if value is None:
        return None
    spec = _float_input(node, name)
    fix = f"Set a value from {spec.min:g} to {spec.max:g} (default {spec.default:g})."
    if not isinstance(value, (int, float)):
        return f"{name}: {str(value)[:40]!r} is not a number. {fix}"
    if math.isnan(value):
        return f"{name}: NaN is not a number. {fix}"
    if math.isinf(value) or value < spec.min or value > spec.max:
        return f"{name}: {value:g} is outside the range. {fix}"
    return None


def validate_floats(node: type[io.ComfyNode], **values: float | None) -> bool | str:
    """For a node's ``validate_inputs``: True, or the first problem of its float inputs."""
    for name, value in values.items():
        problem = float_problem(node, name, value)
        if problem:
            return problem
    return True


def check_floats(node: type[io.ComfyNode], **values: float) -> None:
    """For a node's ``execute``: raise :class:`DragInputError` for the first problem of its float inputs."""
    problem = validate_floats(node, **values)
    if problem is not True:
        raise DragInputError(problem)
