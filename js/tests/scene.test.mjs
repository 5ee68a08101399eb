import assert from "node:assert/strict";
import { test } from "node:test";

import { fitView } from "../lib/geometry.js";
import { editorNotice, editorScene, holdings, keptStands, readoutText, sizeMismatch } from "../lib/scene.js";
import { EditorState } from "../lib/state.js";

const IMAGE = { source: "img", width: 64, height: 48 };
const TOOL = { mode: "points", brush: 16, hover: null, panning: false };
const OFF = { asked: false, image: null, info: undefined };

/** The scene of `state` on the 64 x 48 image, with `input` over the defaults. */
const sceneOf = (state, input = {}) => editorScene({ state, image: IMAGE, preview: OFF, tool: TOOL, camera: null, results: 0, ...input });

function statePairs(width, height, pairs) {
  const state = new EditorState(width, height);
  state.pairs = pairs.map(([handle, target]) => ({ handle, target }));
  return state;
}

test("no image: the canvas says why, the status line what the document keeps", () => {
  const awaiting = { text: "The image comes from Upscale; fetch it to place points", label: "Fetch image", action: "fetch" };
  const kept = editorScene({ state: statePairs(64, 48, [[[1, 1], [2, 2]], [[3, 3], null]]), image: null, awaiting });
  assert.deepEqual(kept, {
    status: { text: "2 pairs on the 64×48 image: fetch the image to see them", warning: false, notice: awaiting },
    image: null,
    message: awaiting.text,
  });
  const pending = editorScene({ state: null, pending: 1, image: null });
  assert.equal(pending.status.text, "1 pair: they show with the image");
  assert.equal(pending.message, "Connect an image (LoadImage) or run the graph to show it here.");
  const broken = editorScene({ state: null, image: null, error: "points JSON: Unexpected end" });
  assert.deepEqual(broken.status, { text: "points JSON: Unexpected end", warning: true, notice: null });
  assert.equal(editorScene({ state: null, image: null }).status.text, "");
});

test("the status line: the error, what the points need, the preview, then every warning on a line", () => {
  const state = statePairs(64, 48, [[[10, 10], [20, 10]], [[30, 30], null]]);
  const scene = sceneOf(state);
  assert.equal(scene.status.text, "missing the target for pair 2: click where it goes");
  assert.equal(scene.status.warning, false);
  const region = new Uint8Array(64 * 48); // nothing editable: both handles are outside the region
  const warned = sceneOf(state, { error: "cannot load x.png", mask: region, maskKey: 3, preview: { asked: true, image: "warped", info: "preview: 4 ms" } });
  const [first, ...details] = warned.status.text.split("\n");
  assert.equal(first, "cannot load x.png · missing the target for pair 2: click where it goes · preview: 4 ms");
  assert.equal(details.length, 1);
  assert.match(details[0], /^pairs 1 and 2: their handles are outside the painted region/);
  assert.equal(warned.status.warning, true);
  assert.deepEqual([...warned.warned], [0, 1]);
  assert.deepEqual(warned.overlay, { key: 3, mask: region });
  assert.equal(warned.image, "warped", "the preview is drawn instead of the image");
});

test("a document for another size than the image: the Rescale notice, the image unwarped, the preview off", () => {
  const state = statePairs(32, 24, [[[1, 1], [2, 2]]]);
  assert.equal(sizeMismatch(state, [64, 48]), true);
  assert.equal(sizeMismatch(state, [32, 24]), false);
  assert.equal(sizeMismatch(null, [64, 48]), false);
  const scene = sceneOf(state, { preview: { asked: true, image: null, info: undefined } });
  assert.deepEqual(scene.status.notice, { text: "the points are for 32×24, the image is 64×48", buttons: [{ label: "Rescale", action: "rescale" }] });
  assert.equal(scene.status.text, "1 pair ready · preview off: the image has another size");
  assert.equal(scene.image, "img");
  assert.equal(scene.width, 32, "the document's size is drawn over the image");
});

test("a kept document's notice stands until the document changes", () => {
  const state = statePairs(64, 48, [[[1, 1], [2, 2]]]);
  state.record();
  const kept = { text: "new image: 1 pair kept", step: state.undoStack.at(-1), rescaled: false };
  assert.deepEqual(editorNotice(state, [64, 48], kept, 0), { text: "new image: 1 pair kept", buttons: [{ label: "Clear points", action: "clear-all" }] });
  const rescaled = { ...kept, text: "points rescaled from 32×24 to 64×48", rescaled: true };
  state.edits[0] = 1;
  assert.deepEqual(editorNotice(state, [64, 48], rescaled, 0).buttons.map((b) => b.label), ["Undo", "Clear points and mask"]);
  assert.deepEqual(editorNotice(state, [64, 48], { ...kept, cleared: true }, 2).buttons, [{ label: "Undo", action: "undo" }]);
  assert.equal(keptStands(kept, state, [64, 48]), true);
  assert.equal(keptStands(kept, state, null), true, "no image hides it without ending it");
  assert.equal(keptStands(kept, state, [32, 24]), true, "a size mismatch hides it without ending it");
  state.addPoint([5, 5]);
  assert.equal(keptStands(kept, state, [64, 48]), false);
  assert.equal(keptStands(null, state, [64, 48]), false);
  assert.deepEqual(editorNotice(state, [64, 48], null, 2), {
    text: "use output",
    buttons: [{ label: "1", action: "use-result-0" }, { label: "2", action: "use-result-1" }],
  });
  assert.equal(editorNotice(state, [64, 48], null, 0), null);
});

test("the brush shows in paint and erase modes while the pointer is over the canvas and not panning", () => {
  const state = new EditorState(64, 48);
  assert.equal(sceneOf(state, { tool: { ...TOOL, hover: [5, 5] } }).brush, null);
  assert.deepEqual(sceneOf(state, { tool: { ...TOOL, mode: "paint", hover: [5, 5] } }).brush, { at: [5, 5], radius: 8 });
  assert.deepEqual(sceneOf(state, { tool: { ...TOOL, mode: "erase", brush: 30, hover: [1, 2] } }).brush, { at: [1, 2], radius: 15 });
  assert.equal(sceneOf(state, { tool: { ...TOOL, mode: "paint", hover: null } }).brush, null);
  assert.equal(sceneOf(state, { tool: { ...TOOL, mode: "paint", hover: [5, 5], panning: true } }).brush, null);
});

test("the scene is a value: later changes of the document do not change it", () => {
  const state = statePairs(64, 48, [[[10, 10], [20, 10]]]);
  const scene = sceneOf(state);
  state.movePoint(0, "handle", [30, 30]);
  state.addPoint([40, 40]);
  assert.deepEqual(scene.pairs, [{ handle: [10, 10], target: [20, 10] }]);
});

test("FastDragWarp's circle shows only while a handle lies outside it", () => {
  const state = statePairs(64, 48, [[[2, 2], [20, 10]]]);
  const circle = { cy: 3, cx: 4, r: 1 }; // latent pixels: the handle at latent (0, 0) is outside
  const outside = sceneOf(state, { circle });
  assert.ok(outside.circle && outside.circle.rx > 0);
  assert.equal(sceneOf(state, { circle: { cy: 3, cx: 4, r: 10 } }).circle, null);
  assert.equal(sceneOf(state, { circle: undefined }).circle, null);
});

test("what a document holds, in words", () => {
  const state = new EditorState(4, 4);
  assert.equal(holdings(state), "");
  assert.equal(holdings(null, 1), "1 pair", "the pairs of a document without a size");
  assert.equal(holdings(null), "");
  state.addPoint([1, 1]);
  assert.equal(holdings(state, 5), "1 pair", "a document with a size keeps no pending pairs");
  state.edits[3] = 1;
  state.addPoint([2, 2]);
  state.addPoint([3, 3]);
  assert.equal(holdings(state), "2 pairs and the painted mask");
  state.clearPoints();
  assert.equal(holdings(state), "the painted mask");
});

test("the readout names the pixel a click stores, and the zoom", () => {
  const view = fitView(64, 48, 128, 96); // two canvas pixels an image pixel
  assert.equal(readoutText(view, [21, 41], null), "x 10, y 20");
  assert.equal(readoutText(view, [127.999, 95.999], null), "x 63, y 47", "a point at the edge is stored inside the image");
  assert.equal(readoutText(view, [130, 10], { zoom: 2.5, x: 0, y: 0 }), "250%", "outside the image: the zoom alone");
  assert.equal(readoutText(null, [10, 10], null), "");
  assert.equal(readoutText(view, null, null), "");
});
