"""DragBench's table: MD, IF and seconds per edit, overall and per category, from per-sample records.

A record is one edited sample: ``{"key": "<category>/<sample>", "category": str, "distances": [px per pair],
"fidelity": IF, "seconds": the server's time for the edit or None, "cold": whether it was a server's first}``. As
the evaluation averages: MD over all pairs (a sample with three pairs weighs three times one with one), IF over
samples. Seconds are averaged over the warm edits (a server's first edit of a run also loads the models), or
over all edits with a time where none is warm.

The HTML page shows the table and, per sample, the source with its drags (red handle, blue target), then each
run's edit with its MD and IF; a sample a run failed shows that run's error.
"""

from __future__ import annotations

import csv
import html
import io
import math
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


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _row(group: str, records: list[dict]) -> Row:
    distances = [d for r in records for d in r["distances"]]
    timed = [r for r in records if r.get("seconds") is not None]
    warm = [r["seconds"] for r in timed if not r.get("cold")]
    return Row(
        group,
        len(records),
        len(distances),
        _mean(distances),
        _mean([r["fidelity"] for r in records]),
        _mean(warm or [r["seconds"] for r in timed]),
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


def to_text(rows: list[Row]) -> str:
    """The table for a terminal."""
    lines = [f"{'group':<16} {'samples':>7} {'pairs':>5} {'MD px':>8} {'IF':>6} {'s/edit':>7}"]
    lines += [f"{r.group:<16} {r.samples:>7} {r.pairs:>5} {r.md:>8.2f} {r.fidelity:>6.3f} {r.seconds:>7.2f}" for r in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class RunView:
    """One run as the page shows it: its ``name``, table ``rows``, ``records`` by key, ``failures`` (key → error)
    and ``edits`` (key → the edit's address relative to the page)."""

    name: str
    rows: list[Row]
    records: dict[str, dict]
    failures: dict[str, str]
    edits: dict[str, str]


@dataclass(frozen=True)
class SampleView:
    """One sample as the page shows it: ``key``, ``prompt``, the source's address relative to the page, its size
    (width, height) and its ((handle), (target)) pairs in its pixels, (x, y)."""

    key: str
    prompt: str
    source: str
    size: tuple[int, int]
    pairs: tuple


_STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:24px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}th{background:#f4f4f4}
td.l,th.l{text-align:left}svg,img{width:256px;height:auto;display:block}.err{color:#b00020;max-width:256px;text-align:left;white-space:pre-wrap}"""


def _number(value: float, digits: int) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _drags(sample: SampleView) -> str:
    width, height = sample.size
    radius = max(width, height) / 50  # about 5 px on the page, whatever the image size
    marks = "".join(
        f'<line x1="{hx}" y1="{hy}" x2="{tx}" y2="{ty}" stroke="#fff" stroke-width="{radius * 0.5:.2f}" marker-end="url(#tip)"/>'
        f'<circle cx="{hx}" cy="{hy}" r="{radius:.2f}" fill="#e53935"/><circle cx="{tx}" cy="{ty}" r="{radius:.2f}" fill="#1e88e5"/>'
        for (hx, hy), (tx, ty) in sample.pairs
    )
    return (
        f'<svg viewBox="0 0 {width} {height}"><defs><marker id="tip" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="4" markerHeight="4" '
        f'orient="auto"><path d="M0,0L10,5L0,10z" fill="#fff"/></marker></defs>'
        f'<image href="{html.escape(sample.source)}" width="{width}" height="{height}"/>{marks}</svg>'
    )


def to_html(title: str, runs: list[RunView], samples: list[SampleView]) -> str:
    """The report page of one run, or of several side by side (module docstring)."""
    groups = compare(runs[0].rows, runs[1].rows) if len(runs) == 2 else [(r.group, r) for r in runs[0].rows]
    head = "".join(f'<th colspan="4">{html.escape(run.name)}</th>' for run in runs)
    sub = "<th>samples</th><th>MD px ↓</th><th>IF ↑</th><th>s/edit</th>" * len(runs)
    body = []
    for group, *rows in groups:
        cells = "".join(
            f"<td>{row.samples}</td><td>{_number(row.md, 2)}</td><td>{_number(row.fidelity, 3)}</td><td>{_number(row.seconds, 2)}</td>"
            if row is not None else "<td>–</td>" * 4
            for row in rows
        )
        body.append(f'<tr><td class="l">{html.escape(group)}</td>{cells}</tr>')
    table_html = f'<table><tr><th class="l" rowspan="2">group</th>{head}</tr><tr>{sub}</tr>{"".join(body)}</table>'
    lines = []
    for sample in samples:
        cells = []
        for run in runs:
            record = run.records.get(sample.key)
            if record is not None:
                md = _mean(record["distances"])
                cells.append(f'<td><img src="{html.escape(run.edits[sample.key])}" alt="edit"/>MD {_number(md, 2)} px · IF {_number(record["fidelity"], 3)}</td>')
            elif sample.key in run.failures:
                cells.append(f'<td><div class="err">failed: {html.escape(run.failures[sample.key])}</div></td>')
            else:
                cells.append("<td>not run</td>")
        lines.append(f'<tr><td class="l">{html.escape(sample.key)}<br><i>{html.escape(sample.prompt)}</i></td><td>{_drags(sample)}</td>{"".join(cells)}</tr>')
    names = "".join(f"<th>{html.escape(run.name)}</th>" for run in runs)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>'
        f"<h1>{html.escape(title)}</h1>{table_html}"
        f'<table><tr><th class="l">sample</th><th>source and drags</th>{names}</tr>{"".join(lines)}</table></body></html>'
    )
