import assert from "node:assert/strict";
import { test } from "node:test";

import { ERASED, PAINTED, UNTOUCHED, composite, decodeRuns, encodeRuns, hasEdits, maskFromImage, stampSegment } from "../lib/mask.js";

test("a brush dot covers the pixels whose centres are within the radius", () => {
  const layer = new Uint8Array(11 * 11);
  const changed = stampSegment(layer, 11, 11, [5.5, 5.5], [5.5, 5.5], 2, PAINTED);
  const expected = [];
  for (let y = 0; y < 11; y++) for (let x = 0; x < 11; x++) if ((x - 5) ** 2 + (y - 5) ** 2 <= 4) expected.push(y * 11 + x);
  assert.equal(changed, expected.length);
  assert.deepEqual([...layer.keys()].filter((i) => layer[i]), expected);
});

test("a stroke segment is a capsule and stays inside the image", () => {
  const layer = new Uint8Array(20 * 10);
  stampSegment(layer, 20, 10, [-5, 5], [30, 5], 1, PAINTED);
  for (let x = 0; x < 20; x++) assert.equal(layer[5 * 20 + x], PAINTED);
  assert.equal(layer[2 * 20 + 10], UNTOUCHED);
});

test("edits refine an incoming mask; without one, only painted pixels are editable", () => {
  const edits = Uint8Array.from([UNTOUCHED, PAINTED, ERASED, UNTOUCHED]);
  assert.deepEqual([...composite(Uint8Array.from([1, 0, 1, 0]), edits)], [1, 1, 0, 0]);
  assert.deepEqual([...composite(null, edits)], [0, 1, 0, 0]);
  assert.ok(hasEdits(edits) && !hasEdits(new Uint8Array(4)));
});

test("run-length storage round-trips and is compact", () => {
  const layer = new Uint8Array(512 * 512);
  stampSegment(layer, 512, 512, [100, 100], [400, 300], 20, PAINTED);
  stampSegment(layer, 512, 512, [200, 200], [210, 220], 8, ERASED);
  const runs = encodeRuns(layer);
  assert.ok(runs.length < 2000, `${runs.length} numbers`);
  assert.deepEqual(decodeRuns(runs, layer.length), layer);
  assert.throws(() => decodeRuns([1, 10], 11), /cover 10 pixels, expected 11/);
  assert.throws(() => decodeRuns([7, 3], 3), /malformed/);
});

test("a mask image reads as 1 where its red channel is over half", () => {
  const grey = (v) => [v, v, v, 255];
  const data = new Uint8ClampedArray([...grey(0), ...grey(127), ...grey(128), ...grey(255), 200, 0, 0, 0]);
  assert.deepEqual([...maskFromImage(data)], [0, 0, 1, 1, 1]);
});
