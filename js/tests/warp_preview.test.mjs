import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { bnniPlan, circleInImage, drawRelocation, handlesOutside, maskCircle, maskToLatent, pointToLatent, pointsToLatent, relocationMap, sourceMap, warpPreview } from "../lib/warp_preview.js";

// Written by the node's Python code: tests/make_warp_preview_fixtures.py. Its maps are exact except for
// the few "borderline" latent pixels whose destination lies within a few ulps of a rounding boundary,
// where another CPU's kernels may round the other way: those keep the fixture's destination, and the
// map built from them and the preview's own destinations must equal the fixture's map exactly.
const { cases } = JSON.parse(readFileSync(new URL("../../tests/fixtures/warp_preview.json", import.meta.url), "utf8"));

function decode(runs, length) {
  const out = new Uint8Array(length);
  let at = 0;
  for (let i = 0; i < runs.length; i += 2) {
    out.fill(runs[i], at, at + runs[i + 1]);
    at += runs[i + 1];
  }
  assert.equal(at, length);
  return out;
}

function image(width, height) {
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) pixels.set([i % 251, (i * 7) % 253, (i * 13) % 255, 255], 4 * i);
  return pixels;
}

for (const c of cases) {
  test(`the preview's map is the node's: ${c.name} (${c.aggregation})`, () => {
    const mask = c.mask ? decode(c.mask, c.width * c.height) : null;
    const [lh, lw] = c.latent;
    const region = maskToLatent(mask, c.width, c.height);
    assert.deepEqual(region, decode(c.region, lh * lw), "latent region");
    const { handles, targets } = pointsToLatent(c.pairs, c.width, c.height);
    assert.deepEqual(handles, c.handles);
    assert.deepEqual(targets, c.targets);
    const result = relocationMap(region, lh, lw, handles, targets, c.aggregation);
    if (c.outside_pair !== undefined) {
      assert.equal(result.pair, c.outside_pair, JSON.stringify(result));
      return;
    }
    assert.deepEqual(result.src, sourceMap(region, result.dest));
    const dest = Int32Array.from(result.dest);
    for (const [index, to] of c.borderline) dest[index] = to;
    const moved = [];
    sourceMap(region, dest).forEach((s, i) => { if (s !== i) moved.push([i, s]); });
    assert.equal(moved.length, c.moved.length, "number of latent pixels that change");
    assert.deepEqual(moved, c.moved);
  });
}

test("each latent pixel moves its 8 x 8 block; holes show as holes or BNNI's fill", () => {
  const [w, h] = [64, 48];
  const pixels = image(w, h);
  const mask = new Uint8Array(w * h);
  for (let y = 8; y < 40; y++) for (let x = 8; x < 56; x++) mask[y * w + x] = 1;
  const pairs = [{ handle: [20, 20], target: [36, 20] }];
  const { pixels: out, src, lh, lw } = warpPreview(pixels, w, h, pairs, mask);
  const at = (p, x, y) => [...p.subarray(4 * (y * w + x), 4 * (y * w + x) + 4)];
  for (let cell = 0; cell < lh * lw; cell++) {
    const [cy, cx] = [Math.floor(cell / lw), cell % lw];
    const from = src[cell] >= 0 ? [src[cell] % lw, Math.floor(src[cell] / lw)] : null;
    for (const [dx, dy] of [[0, 0], [7, 7], [3, 5]]) {
      const shown = at(out, cx * 8 + dx, cy * 8 + dy);
      if (from) assert.deepEqual(shown, at(pixels, from[0] * 8 + dx, from[1] * 8 + dy));
      else assert.ok(shown[0] === shown[1] && shown[1] === shown[2] && shown[0] < 0x50, "a hole is drawn as a hole");
    }
  }
  const holes = Uint8Array.from(src, (s) => (s < 0 ? 1 : 0));
  assert.ok(holes.some((v) => v));
  const filled = warpPreview(pixels, w, h, pairs, mask, { fill: true }).pixels;
  const plan = bnniPlan(holes, lh, lw);
  assert.equal(plan.length, holes.reduce((a, b) => a + b, 0), "every hole here has a neighbour");
  const first = plan[0];
  const total = first.neighbours.reduce((s, [, wt]) => s + wt, 0);
  const block = (cell, c) => out[4 * ((Math.floor(cell / lw) * 8) * w + (cell % lw) * 8) + c];
  const expected = first.neighbours.reduce((s, [cell, wt]) => s + wt * block(cell, 0), 0) / total;
  assert.ok(Math.abs(filled[4 * ((Math.floor(first.hole / lw) * 8) * w + (first.hole % lw) * 8)] - expected) <= 1);
});

test("BNNI's plan: left and up may be holes filled just before, right and down are original pixels", () => {
  // 1 x 4 row: [a, hole, hole, b]: the first hole sees a (left, 1) and b (right, 2); the second sees
  // the first (left, 1, already filled) and b (right, 1).
  const plan = bnniPlan(Uint8Array.from([0, 1, 1, 0]), 1, 4);
  assert.deepEqual(plan, [{ hole: 1, neighbours: [[0, 1], [3, 0.5]] }, { hole: 2, neighbours: [[1, 1], [3, 1]] }]);
  assert.deepEqual(bnniPlan(Uint8Array.from([1, 1]), 1, 2), [], "a hole with no neighbour stays a hole");
});

test("what the node refuses is reported, not drawn", () => {
  const pixels = image(64, 64);
  const mask = new Uint8Array(64 * 64);
  for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) mask[y * 64 + x] = 1;
  const outside = warpPreview(pixels, 64, 64, [{ handle: [2, 2], target: [10, 10] }], mask);
  assert.match(outside.error, /pair 1 lies outside the circle/);
  assert.equal(outside.pixels, pixels);
  assert.match(warpPreview(pixels, 64, 64, [{ handle: [2, 2], target: [3, 3] }], new Uint8Array(64 * 64)).error, /empty/);
  assert.equal(maskCircle(new Uint8Array(4), 2, 2), null);
  assert.deepEqual(drawRelocation(pixels, 64, 64, Int32Array.from({ length: 64 }, (_, i) => i), 8, 8), pixels);
  const unfinished = warpPreview(pixels, 64, 64, [{ handle: [10, 10], target: null }], null);
  assert.equal(unfinished.pixels, pixels);
});

test("the circle drawn in image pixels bounds the handles FastDragWarp accepts", () => {
  const [width, height] = [200, 120]; // latent 25 x 15 through the half-resolution grid (100 / 4, 60 / 4)
  const circle = { cy: 6, cx: 9, r: 5 };
  const { x, y, rx, ry } = circleInImage(circle, width, height);
  assert.deepEqual([x, y, rx, ry], [72, 48, 40, 40]);
  for (let py = 0; py < height; py += 3) {
    for (let px = 0; px < width; px += 3) {
      const inEllipse = ((px - x) / rx) ** 2 + ((py - y) / ry) ** 2;
      if (Math.abs(inEllipse - 1) < 0.1) continue; // the node rounds to its quarter-pixel grid near the edge
      const refused = handlesOutside(circle, [pointToLatent([px, py], width, height)]).length > 0;
      assert.equal(refused, inEllipse > 1, `[${px}, ${py}]`);
    }
  }
});
