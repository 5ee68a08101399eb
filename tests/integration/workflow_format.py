"""Convert between ComfyUI's UI workflow format (what the browser saves and loads) and the API format.

Both directions need the node definitions of a running ComfyUI (``/object_info``): a UI node stores
its widget values as a positional list, in the order of the node's widget inputs, with an extra value
after a seed-like widget (its "control after generate" setting) and after an image-upload combo.

The example workflows in ``workflows/`` are written once in API format; their UI twins are generated
from them (``python tests/integration/workflow_format.py to-ui API.json UI.json --server URL``) and the
integration tests check that each UI workflow converts back to its API twin.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from collections import defaultdict
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
"""The size the frontend gives these nodes with their image or canvas shown; other nodes get DEFAULT_SIZE."""
DEFAULT_SIZE = [340, 200]
GAP = 40


def ui_from_api(prompt: dict, object_info: dict, models: dict[str, list[dict]] | None = None) -> dict:
    """A UI workflow for an API-format prompt, laid out in columns by graph depth, each node as large
    as it shows (:data:`SIZES`), so that none overlaps another.

    ``models`` maps a node id to the ``properties.models`` list (name, url, directory) with which the
    frontend offers to download missing model files.
    """
    depth: dict[str, int] = {}

    def node_depth(node_id: str) -> int:
        if node_id not in depth:
            sources = [v[0] for v in prompt[node_id]["inputs"].values() if isinstance(v, list)]
            depth[node_id] = 1 + max((node_depth(s) for s in sources), default=-1)
        return depth[node_id]

    columns: dict[int, list[str]] = defaultdict(list)
    for node_id in sorted(prompt, key=int):
        columns[node_depth(node_id)].append(node_id)

    links: list[list] = []
    outgoing: dict[tuple[str, int], list[int]] = defaultdict(list)
    nodes = []
    order = 0
    x = GAP
    for column in sorted(columns):
        y = GAP
        width = max(SIZES.get(prompt[n]["class_type"], DEFAULT_SIZE)[0] for n in columns[column])
        for node_id in columns[column]:
            entry = prompt[node_id]
            size = SIZES.get(entry["class_type"], DEFAULT_SIZE)
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
                "pos": [x, y],
                "size": list(size),
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
            order += 1
            y += size[1] + GAP
        x += width + GAP
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


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the UI twin of an API-format workflow.")
    parser.add_argument("command", choices=["to-ui"])
    parser.add_argument("api_json")
    parser.add_argument("ui_json")
    parser.add_argument("--server", default="http://127.0.0.1:8188")
    parser.add_argument("--models", help="JSON file mapping node ids to properties.models lists")
    args = parser.parse_args()
    with urllib.request.urlopen(args.server + "/object_info") as r:
        object_info = json.loads(r.read())
    with open(args.api_json) as f:
        prompt = json.load(f)
    models = json.load(open(args.models)) if args.models else None
    with open(args.ui_json, "w") as f:
        json.dump(ui_from_api(prompt, object_info, models), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
