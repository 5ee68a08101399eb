import assert from "node:assert/strict";
import { test } from "node:test";

import { PAINTED } from "../lib/mask.js";
import { EditorState, documentText, shownText } from "../lib/state.js";

test("clicks alternate handle and target; an unpaired handle is kept without target", () => {
  const s = new EditorState(100, 80);
  s.addPoint([10, 10]);
  assert.ok(s.pending);
  s.addPoint([20, 15]);
  s.addPoint([50, 50]);
  assert.deepEqual(s.toJSON(), { width: 100, height: 80, pairs: [{ handle: [10, 10], target: [20, 15] }, { handle: [50, 50] }] });
});

test("points are clamped into the image, also as the document stores them (0.01 px)", () => {
  const s = new EditorState(100, 80);
  s.addPoint([-5, 200]);
  const [x, y] = s.pairs[0].handle;
  assert.ok(x === 0 && y >= 79.99 && y < 80);
  s.addPoint([100, 80]); // dragged onto the right and bottom edges
  s.movePoint(0, "handle", [99.9999, 79.9999]);
  for (const { handle, target } of s.storedPairs()) {
    for (const [px, py] of [handle, target]) assert.ok(px >= 0 && px < 100 && py >= 0 && py < 80, `${px}, ${py}`);
  }
});

test("move, delete, clear, undo and redo", () => {
  const s = new EditorState(100, 100);
  s.addPoint([10, 10]);
  s.addPoint([20, 20]);
  s.addPoint([30, 30]);
  s.addPoint([40, 40]);
  s.begin();
  s.movePoint(0, "target", [25, 22]);
  s.movePoint(0, "target", [26, 23]);  // one drag, many moves: one undo step
  s.end();
  assert.deepEqual(s.pairs[0].target, [26, 23]);
  assert.ok(s.deletePair(1));
  assert.equal(s.pairs.length, 1);
  assert.ok(s.undo());
  assert.equal(s.pairs.length, 2);
  assert.ok(s.undo());
  assert.deepEqual(s.pairs[0].target, [20, 20]);
  assert.ok(s.redo() && s.redo());
  assert.equal(s.pairs.length, 1);
  s.clearPoints();
  assert.equal(s.pairs.length, 0);
  assert.ok(s.undo());
  assert.equal(s.pairs.length, 1);
  assert.ok(!s.deletePair(5));
});

test("mask strokes are undoable and travel in the JSON", () => {
  const s = new EditorState(64, 48);
  s.begin();
  s.stroke([10, 10], [30, 20], 4, PAINTED);
  s.end();
  const doc = JSON.parse(JSON.stringify(s.toJSON()));
  assert.ok(doc.mask.runs.length > 0);
  const back = EditorState.fromJSON(doc);
  assert.deepEqual(back.edits, s.edits);
  assert.deepEqual(back.toJSON(), doc);
  assert.ok(s.undo());
  assert.equal(s.toJSON().mask, undefined);
});

test("JSON round trip of pairs and refusal of malformed documents", () => {
  const doc = { width: 512, height: 384, pairs: [{ handle: [1.5, 2.25], target: [100, 200] }] };
  assert.deepEqual(EditorState.fromJSON(JSON.stringify(doc)).toJSON(), doc);
  assert.throws(() => EditorState.fromJSON({ width: 0, height: 5, pairs: [] }), /positive whole numbers/);
  assert.throws(() => EditorState.fromJSON({ width: 5, height: 5, pairs: [{ handle: [1] }] }), /pair 1 has no valid handle/);
});

test("a new image size rescales points and mask edits", () => {
  const s = new EditorState(100, 50);
  s.addPoint([10, 10]);
  s.addPoint([50, 25]);
  s.begin();
  s.stroke([0, 0], [0, 0], 3, PAINTED);
  s.end();
  const r = s.resized(200, 100);
  assert.deepEqual(r.pairs[0], { handle: [20, 20], target: [100, 50] });
  assert.equal(r.edits[0], PAINTED);
  assert.equal(r.edits[199], 0);
});

test("rescaling to another image size is one undoable step: undo gives back the points and the mask at the old size", () => {
  const s = new EditorState(100, 50);
  s.addPoint([10, 10]);
  s.addPoint([50, 25]);
  s.addPoint([90, 40]);
  s.stroke([20, 20], [30, 20], 4, PAINTED);
  const before = s.toJSON();
  const expected = s.resized(50, 100).toJSON();
  s.rescale(50, 100);
  assert.deepEqual(s.toJSON(), expected);
  assert.deepEqual([s.width, s.height, s.edits.length], [50, 100, 5000]);
  assert.deepEqual(s.pairs[0], { handle: [5, 20], target: [25, 50] });
  assert.ok(s.undo());
  assert.deepEqual(s.toJSON(), before);
  assert.equal(s.edits.length, 5000);
  assert.ok(s.redo());
  assert.deepEqual([s.width, s.height], [50, 100]);
  assert.deepEqual(s.storedPairs()[1], { handle: [45, 80], target: null });
});

test("a typed or pasted document replaces the pairs in one undoable step", () => {
  const s = new EditorState(100, 80);
  s.addPoint([10, 10]);
  s.addPoint([20, 20]);
  s.stroke([5, 5], [5, 5], 3, PAINTED);
  const painted = s.edits.slice();
  s.replaceWith('{"width": 200, "height": 160, "pairs": [{"handle": [100, 40], "target": [120, 60]}]}');
  assert.deepEqual(s.toJSON(), { width: 100, height: 80, pairs: [{ handle: [50, 20], target: [60, 30] }] });  // scaled, mask gone
  s.replaceWith([{ x: 1, y: 2 }, { x: 3, y: 4 }, [5, 6]]);  // another pack's point list: pairs only
  assert.deepEqual(s.pairs, [{ handle: [1, 2], target: [3, 4] }, { handle: [5, 6], target: null }]);
  assert.throws(() => s.replaceWith('{"pairs": [{"target": [1, 1]}]}'), /pair 1 has no valid handle/);
  assert.throws(() => s.replaceWith("not json"), SyntaxError);
  assert.equal(s.pairs.length, 2);  // a failed paste changes nothing
  assert.ok(s.undo() && s.undo());
  assert.deepEqual(s.pairs, [{ handle: [10, 10], target: [20, 20] }]);
  assert.deepEqual(s.edits, painted);
});

test("the document as text shows one pair per line and reads back the same", () => {
  const doc = { width: 100, height: 80, pairs: [{ handle: [1, 2.5], target: [-3, 4] }, { handle: [5, 6] }], mask: { runs: [0, 8000] } };
  const text = documentText(doc);
  assert.equal(text.split("\n")[3], '  {"handle": [1, 2.5], "target": [-3, 4]},');
  assert.deepEqual(JSON.parse(text), doc);
  assert.deepEqual(JSON.parse(documentText({ width: 4, height: 4, pairs: [] })), { width: 4, height: 4, pairs: [] });
});

test("a gesture that changes nothing leaves no undo step and keeps redo", () => {
  const s = new EditorState(50, 50);
  s.addPoint([10, 10]);
  s.addPoint([20, 20]);
  s.undo();
  s.begin(); // grab a marker and let go without moving it
  s.end();
  assert.ok(s.redo(), "redo survives a gesture that changed nothing");
  assert.deepEqual(s.pairs[0].target, [20, 20]);
  const depth = s.undoStack.length;
  s.begin();
  s.end();
  assert.equal(s.undoStack.length, depth);
});

test("the JSON view lays out a document and shows anything else as typed", () => {
  const doc = { width: 4, height: 4, pairs: [{ handle: [1, 2], target: [3, 3] }] };
  assert.equal(shownText(JSON.stringify(doc)), documentText(doc));
  assert.equal(shownText("[[1, 2], [3, 4]]"), "[[1, 2], [3, 4]]");
  assert.equal(shownText('{"width": 4, "pairs": ['), '{"width": 4, "pairs": [');
  assert.equal(shownText("null"), "null");
});
