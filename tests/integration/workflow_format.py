"""Convert between ComfyUI's UI workflow format (what the browser saves and loads) and the API format.

Both directions need the node definitions of a running ComfyUI (``/object_info``): a UI node stores
its widget values as a positional list, in the order of the node's widget inputs, with an extra value
after a seed-like widget (its "control after generate" setting) and after an image-upload combo.

The example workflows in ``workflows/`` are written once in API format; their UI twins are generated
from them (``python tests/integration/workflow_format.py regenerate workflows/*.json --server URL`` keeps
each UI file's notes and model download lists) and the integration tests check that each UI workflow
converts back to its API twin.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}


def _inputs(info: dict) -> list[tuple[str, list]]:
    """(name, spec) of a node's inputs in display order: required, then optional."""
    order = info.get("input_order", {})
    out = []
    for group in ("required", "optional"):
        specs = info["input"].get(group, {})
        for name in order.get(group, list(specs)):
            out.append((name, specs[name]))
    return out


def _is_widget(spec: list) -> bool:
    kind = spec[0]
    options = spec[1] if len(spec) > 1 else {}
    return (isinstance(kind, list) or kind in WIDGET_TYPES) and not options.get("forceInput")


def _extra_values(spec: list) -> int:
    """Values the frontend stores after a widget's own value."""
    options = spec[1] if len(spec) > 1 else {}
    return int(bool(options.get("control_after_generate"))) + int(bool(options.get("image_upload")))


def _input_type(spec: list) -> str:
    return "COMBO" if isinstance(spec[0], list) else spec[0]


def api_from_ui(ui: dict, object_info: dict) -> dict:
    """The API-format prompt the frontend would queue for a UI workflow (muted and bypassed nodes aside)."""
    links = {link[0]: link for link in ui["links"]}
    prompt = {}
    for node in ui["nodes"]:
        if node["type"] in NOTE_TYPES:
            continue
        info = object_info[node["type"]]
        linked = {i["name"]: i.get("link") for i in node.get("inputs", [])}
        values = list(node.get("widgets_values", []))
        inputs: dict[str, Any] = {}
        for name, spec in _inputs(info):
            widget = _is_widget(spec)
            if widget:
                value = values.pop(0)
                del values[: _extra_values(spec)]
            if linked.get(name) is not None:
                _, origin, slot, *_ = links[linked[name]]
                inputs[name] = [str(origin), slot]
            elif widget:
                inputs[name] = value
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt


SIZES = {"DragPointsEditor": [440, 600], "LoadImage": [340, 420], "SaveImage": [380, 420], "PreviewImage": [380, 420]}
"""The size the frontend gives these nodes with their image or canvas shown. They make the editing row
at the top of a workflow: the source, the points editor and the results, side by side."""
NOTE_TYPES = {"Note", "MarkdownNote"}
"""Frontend-only nodes: the frontend queues nothing for them, so they have no API twin."""
NOTE_WIDTH = 340
WIDTH = 320
GAP = 40
SLOT, WIDGET, MULTILINE, VUE_MARGIN = 20, 24, 30, 60


def node_size(class_type: str, info: dict) -> list[int]:
    """The [width, height] a node is given: :data:`SIZES` for the image and canvas nodes, else room for its
    slots and widgets. The height is what LiteGraph's ``computeSize`` gives (a row of 20 per input or
    output slot, 24 per widget, 30 more for a multi-line text) plus :data:`VUE_MARGIN`, because the Vue
    node renderer draws widgets taller; the browser test checks both renderers."""
    if class_type in SIZES:
        return list(SIZES[class_type])
    inputs = _inputs(info)
    slots = sum(1 for _, spec in inputs if not _is_widget(spec))
    widgets = sum(1 + _extra_values(spec) for _, spec in inputs if _is_widget(spec))
    multiline = sum(1 for _, spec in inputs if _is_widget(spec) and len(spec) > 1 and spec[1].get("multiline"))
    height = SLOT * max(slots, len(info["output"])) + 6 + (8 + WIDGET * widgets + MULTILINE * multiline if widgets else 0)
    return [WIDTH, -(-(height + VUE_MARGIN) // 10) * 10]


def note_size(text: str) -> list[int]:
    """Room for a Note's text at the frontend's font (about 44 characters and 17 px a line)."""
    lines = sum(max(1, -(-len(line) // 44)) for line in text.split("\n"))
    return [NOTE_WIDTH, 40 + 17 * lines]


def layout(prompt: dict, sizes: dict[str, list[int]], notes: list[list[int]]) -> tuple[dict[str, list[int]], list[list[int]]]:
    """Positions for the nodes of ``prompt`` (each of the size in ``sizes``) and for the notes (their sizes).

    The top row holds the notes and then the image and canvas nodes (:data:`SIZES`) in graph order, so
    that the points editor has the source on its left and the results on its right. Below it, the other
    nodes stand in columns by graph depth, as close as they fit; nothing covers anything else.
    """
    depth: dict[str, int] = {}

    def node_depth(node_id: str) -> int:
        if node_id not in depth:
            sources = [v[0] for v in prompt[node_id]["inputs"].values() if isinstance(v, list)]
            depth[node_id] = 1 + max((node_depth(s) for s in sources), default=-1)
        return depth[node_id]

    by_order = sorted(prompt, key=lambda n: (node_depth(n), int(n)))
    shown = [n for n in by_order if prompt[n]["class_type"] in SIZES]
    positions: dict[str, list[int]] = {}
    note_positions = []
    x = GAP
    for size in notes:
        note_positions.append([x, GAP])
        x += size[0] + GAP
    for node_id in shown:
        positions[node_id] = [x, GAP]
        x += sizes[node_id][0] + GAP
    top = max([sizes[n][1] for n in shown] + [size[1] for size in notes], default=0)
    columns: dict[int, list[str]] = defaultdict(list)
    for node_id in by_order:
        if node_id not in positions:
            columns[node_depth(node_id)].append(node_id)
    x = GAP
    for column in sorted(columns):
        y = GAP + top + 2 * GAP
        for node_id in columns[column]:
            positions[node_id] = [x, y]
            y += sizes[node_id][1] + GAP
        x += max(sizes[n][0] for n in columns[column]) + GAP
    return positions, note_positions


def ui_from_api(prompt: dict, object_info: dict, models: dict[str, list[dict]] | None = None,
                notes: list[str] = ()) -> dict:
    """A UI workflow for an API-format prompt, laid out by :func:`layout`, with a Note node for each
    text in ``notes`` (how to use the workflow).

    ``models`` maps a node id to the ``properties.models`` list (name, url, directory) with which the
    frontend offers to download missing model files.
    """
    sizes = {n: node_size(entry["class_type"], object_info[entry["class_type"]]) for n, entry in prompt.items()}
    note_sizes = [note_size(text) for text in notes]
    positions, note_positions = layout(prompt, sizes, note_sizes)
    links: list[list] = []
    outgoing: dict[tuple[str, int], list[int]] = defaultdict(list)
    nodes = []
    for order, node_id in enumerate(sorted(prompt, key=int)):
        entry = prompt[node_id]
        info = object_info[entry["class_type"]]
        inputs, values = [], []
        for name, spec in _inputs(info):
            given = entry["inputs"].get(name)
            if isinstance(given, list):
                links.append([len(links) + 1, int(given[0]), given[1], int(node_id), len(inputs), None])
                outgoing[(given[0], given[1])].append(len(links))
                socket = {"name": name, "type": _input_type(spec), "link": len(links)}
                if _is_widget(spec):
                    socket["widget"] = {"name": name}
                inputs.append(socket)
            elif not _is_widget(spec):
                inputs.append({"name": name, "type": _input_type(spec), "link": None})
            if _is_widget(spec):
                options = spec[1] if len(spec) > 1 else {}
                values.append(given if given is not None and not isinstance(given, list) else options.get("default"))
                if options.get("control_after_generate"):
                    values.append("fixed")
                if options.get("image_upload"):
                    values.append("image")
        node = {
            "id": int(node_id),
            "type": entry["class_type"],
            "pos": positions[node_id],
            "size": sizes[node_id],
            "flags": {},
            "order": order,
            "mode": 0,
            "inputs": inputs,
            "outputs": [
                {"name": name, "type": kind, "links": [], "slot_index": slot}
                for slot, (name, kind) in enumerate(zip(info["output_name"], info["output"]))
            ],
            "properties": {"Node name for S&R": entry["class_type"]},
            "widgets_values": values,
        }
        if models and node_id in models:
            node["properties"]["models"] = models[node_id]
        nodes.append(node)
    first_note = max(int(n) for n in prompt) + 1
    for i, (text, pos, size) in enumerate(zip(notes, note_positions, note_sizes)):
        nodes.append({"id": first_note + i, "type": "Note", "pos": pos, "size": size, "flags": {}, "order": len(nodes),
                      "mode": 0, "inputs": [], "outputs": [], "properties": {}, "widgets_values": [text]})
    for link in links:
        origin = next(n for n in nodes if n["id"] == link[1])
        link[5] = origin["outputs"][link[2]]["type"]
    for node in nodes:
        for output in node["outputs"]:
            output["links"] = outgoing.get((str(node["id"]), output["slot_index"]), [])
    return {
        "last_node_id": max(n["id"] for n in nodes),
        "last_link_id": len(links),
        "nodes": nodes,
        "links": links,
        "groups": [],
        "config": {},
        "extra": {},
        "version": 0.4,
    }


def kept_from_ui(ui: dict) -> tuple[dict[str, list[dict]], list[str]]:
    """What a UI workflow holds beyond its API twin: the model download lists by node id, and the notes."""
    models = {str(n["id"]): n["properties"]["models"] for n in ui["nodes"] if n.get("properties", {}).get("models")}
    notes = [n["widgets_values"][0] for n in ui["nodes"] if n["type"] in NOTE_TYPES]
    return models, notes


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the UI twin of an API-format workflow.")
    parser.add_argument("command", choices=["to-ui", "regenerate"], help="to-ui: write UI_JSON from API_JSON; regenerate: "
                        "rewrite each UI workflow given from its API twin in api/ beside it, keeping its model lists and notes")
    parser.add_argument("paths", nargs="+", help="to-ui: API_JSON UI_JSON; regenerate: UI workflows")
    parser.add_argument("--server", default="http://127.0.0.1:8188")
    parser.add_argument("--models", help="to-ui: JSON file mapping node ids to properties.models lists")
    args = parser.parse_args()
    with urllib.request.urlopen(args.server + "/object_info") as r:
        object_info = json.loads(r.read())
    if args.command == "to-ui":
        api_path, ui_path = args.paths
        jobs = [(Path(api_path), Path(ui_path), json.loads(Path(args.models).read_text()) if args.models else None, [])]
    else:
        jobs = [(Path(p).parent / "api" / Path(p).name, Path(p), *kept_from_ui(json.loads(Path(p).read_text()))) for p in args.paths]
    for api_path, ui_path, models, notes in jobs:
        ui = ui_from_api(json.loads(api_path.read_text()), object_info, models, notes)
        ui_path.write_text(json.dumps(ui, indent=1) + "\n")


if __name__ == "__main__":
    main()
