"""DragBench's table: MD, IF and seconds per edit, overall and per category, from per-sample records.

A record is one edited sample: ``{"key": "<category>/<sample>", "category": str, "distances": [px per pair],
"fidelity": IF, "seconds": time of the edit}``. As the evaluation averages: MD over all pairs (a sample with
three pairs weighs three times one with one), IF and seconds over samples.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

COLUMNS = ("group", "samples", "pairs", "md", "if", "seconds")


@dataclass(frozen=True)
class Row:
    """One line of the table: ``group`` is "all" or a category."""

    group: str
    samples: int
    pairs: int
    md: float
    fidelity: float
    seconds: float


def _row(group: str, records: list[dict]) -> Row:
    distances = [d for r in records for d in r["distances"]]
    return Row(
        group,
        len(records),
        len(distances),
        sum(distances) / len(distances) if distances else float("nan"),
        sum(r["fidelity"] for r in records) / len(records),
        sum(r["seconds"] for r in records) / len(records),
    )


def table(records: list[dict]) -> list[Row]:
    """The overall row ("all"), then one per category in name order."""
    if not records:
        raise ValueError("no edited sample to report")
    categories = sorted({r["category"] for r in records})
    return [_row("all", records)] + [_row(c, [r for r in records if r["category"] == c]) for c in categories]


def to_csv(rows: list[Row]) -> str:
    """The table as CSV, with the header ``group,samples,pairs,md,if,seconds``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([row.group, row.samples, row.pairs, f"{row.md:.4f}", f"{row.fidelity:.4f}", f"{row.seconds:.3f}"])
    return out.getvalue()


def to_json(rows: list[Row]) -> list[dict]:
    """The table as a list of dicts (JSON-ready)."""
    return [asdict(row) for row in rows]


def compare(a: list[Row], b: list[Row]) -> list[tuple[str, Row | None, Row | None]]:
    """Two runs' tables side by side: (group, row of a, row of b) for every group of either, "all" first."""
    by_a, by_b = {r.group: r for r in a}, {r.group: r for r in b}
    groups = ["all"] + sorted((by_a.keys() | by_b.keys()) - {"all"})
    return [(g, by_a.get(g), by_b.get(g)) for g in groups]
