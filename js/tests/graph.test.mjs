import assert from "node:assert/strict";
import { test } from "node:test";

import { downstream, imageRef, linkOf, pairsAndMask, reachable, upstreamPrompt, warpOptions, watchWidget } from "../lib/graph.js";

/** A LiteGraph-like graph: `nodes` {id: {type, inputs: [name...], outputs: n, widgets}} and `links`
 * [[from id, from slot, to id, to slot]], kept in a Map (later frontends) or a plain object (earlier). */
function graphOf(nodes, links, map = true) {
  const graph = { links: map ? new Map() : {}, getNodeById: (id) => graph.nodes[id] ?? null, nodes: {} };
  for (const [id, { type, inputs = [], outputs = 0, widgets = [] }] of Object.entries(nodes)) {
    graph.nodes[id] = {
      id: Number(id), type, graph, widgets,
      inputs: inputs.map((name) => ({ name, link: null })),
      outputs: Array.from({ length: outputs }, () => ({ links: [] })),
    };
  }
  links.forEach(([from, fromSlot, to, toSlot], i) => {
    const id = 100 + i;
    const link = { origin_id: from, origin_slot: fromSlot, target_id: to, target_slot: toSlot };
    if (map) graph.links.set(id, link);
    else graph.links[id] = link;
    graph.nodes[from].outputs[fromSlot].links.push(id);
    graph.nodes[to].inputs[toSlot].link = id;
  });
  return graph;
}

// LoadImage 1 -> Scale 2 -> editor 3 -> (points) FastDragWarp 4 (mask from the editor) -> Save 5; LoadImage 6 -> Invert 7.
const NODES = {
  1: { type: "LoadImage", outputs: 2 },
  2: { type: "DragImageScale", inputs: ["image"], outputs: 1 },
  3: { type: "DragPointsEditor", inputs: ["image"], outputs: 3 },
  4: { type: "FastDragWarp", inputs: ["latent", "points", "mask"], outputs: 1, widgets: [{ name: "aggregation", value: "nearest_handle" }] },
  5: { type: "SaveImage", inputs: ["images"] },
  6: { type: "LoadImage", outputs: 2 },
  7: { type: "InvertMask", inputs: ["mask"], outputs: 1 },
};
const LINKS = [[1, 0, 2, 0], [2, 0, 3, 0], [3, 1, 4, 1], [3, 2, 4, 2], [4, 0, 5, 0], [6, 1, 7, 0]];

for (const map of [true, false]) {
  const kind = map ? "a Map" : "an object";
  test(`links kept in ${kind}: what a node depends on and what uses it`, () => {
    const graph = graphOf(NODES, LINKS, map);
    const ids = (nodes) => [...nodes].map((n) => n.id).sort();
    assert.deepEqual(ids(reachable(graph.nodes[3], 0, true)), [1, 2]);
    assert.deepEqual(ids(reachable(graph.nodes[3], 1, false)), [4, 5]);
    assert.deepEqual(ids(reachable(graph.nodes[3], 0, false)), [], "output 0 feeds nothing");
    assert.deepEqual(downstream(graph.nodes[3], 2).map(({ node, slot }) => [node.id, slot]), [[4, 2]]);
    assert.equal(linkOf(graph, null), undefined);
    assert.equal(linkOf(graph, 999), undefined);
  });
}

test("the FastDragWarp the points feed: its aggregation and where its mask comes from", () => {
  const graph = graphOf(NODES, LINKS);
  assert.deepEqual(warpOptions(graph.nodes[3], 1, 2), { warp: true, aggregation: "nearest_handle", mask: "editor" });
  const otherMask = graphOf(NODES, [[1, 0, 2, 0], [2, 0, 3, 0], [3, 1, 4, 1], [7, 0, 4, 2]]);
  assert.equal(warpOptions(otherMask.nodes[3], 1, 2).mask, "other");
  const noMask = graphOf(NODES, [[3, 1, 4, 1]]);
  assert.equal(warpOptions(noMask.nodes[3], 1, 2).mask, "none");
  const noWarp = graphOf(NODES, [[1, 0, 3, 0]]);
  assert.deepEqual(warpOptions(noWarp.nodes[3], 1, 2), { warp: false, aggregation: "inverse_distance", mask: "editor" });
});

test("the prompt that fetches an image holds what it depends on, and a PreviewImage on it", () => {
  const output = {
    1: { class_type: "LoadImage", inputs: { image: "a.png" } },
    2: { class_type: "DragImageScale", inputs: { image: ["1", 0], size: 512 } },
    3: { class_type: "DragPointsEditor", inputs: { image: ["2", 0], points: "{}" } },
    5: { class_type: "SaveImage", inputs: { images: ["3", 0] } },
  };
  const prompt = upstreamPrompt(output, ["2", 0], "fetch");
  assert.deepEqual(Object.keys(prompt).sort(), ["1", "2", "fetch"]);
  assert.deepEqual(prompt.fetch, { class_type: "PreviewImage", inputs: { images: ["2", 0] } });
  assert.equal(prompt[2], output[2]);
});

test("a LoadImage value names the file, its subfolder and its folder type", () => {
  assert.deepEqual(imageRef("photo.png"), { filename: "photo.png", subfolder: "", type: "input" });
  assert.deepEqual(imageRef("clipspace/mask 1.png [input]"), { filename: "mask 1.png", subfolder: "clipspace", type: "input" });
  assert.deepEqual(imageRef("a/b/result.png [output]"), { filename: "result.png", subfolder: "a/b", type: "output" });
});

test("a points document's meaning leaves out its image size", () => {
  const pairs = [{ handle: [1, 2], target: [3, 4] }, { handle: [5, 6] }];
  assert.equal(pairsAndMask(JSON.stringify({ pairs })), pairsAndMask(JSON.stringify({ width: 64, height: 48, pairs })));
  assert.notEqual(pairsAndMask(JSON.stringify({ pairs })), pairsAndMask(JSON.stringify({ pairs: pairs.slice(1) })));
  assert.notEqual(pairsAndMask(JSON.stringify({ pairs })), pairsAndMask(JSON.stringify({ pairs, mask: { runs: [0, 4] } })));
  assert.equal(pairsAndMask(""), pairsAndMask("{}"));
  assert.equal(pairsAndMask("{not json"), "{not json");
});

test("widget listeners run after the widget's own callback, share one wrapper and stop alone", () => {
  const calls = [];
  const widget = { value: 1, callback(value) { calls.push(["own", value, this === widget]); return "kept"; } };
  const stopA = watchWidget(widget, (value) => calls.push(["a", value]));
  watchWidget(widget, (value) => calls.push(["b", value]));
  widget.value = 2;
  assert.equal(widget.callback(2), "kept");
  assert.deepEqual(calls, [["own", 2, true], ["a", 2], ["b", 2]]);
  stopA();
  calls.length = 0;
  widget.callback(3);
  assert.deepEqual(calls, [["own", 3, true], ["b", 2]], "a listener gets the widget's value");
});
