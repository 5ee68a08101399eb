import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { checkPoints } from "../lib/checks.js";
import { decodeRuns } from "../lib/mask.js";
import { latentCircle } from "../lib/warp_preview.js";

// Written by the node's Python code: tests/make_warp_preview_fixtures.py.
const { cases } = JSON.parse(readFileSync(new URL("../../tests/fixtures/warp_preview.json", import.meta.url), "utf8"));

/** A width x height region, editable inside the rectangle [x0, x1) x [y0, y1). */
function rectangle(width, height, [x0, y0, x1, y1]) {
  const region = new Uint8Array(width * height);
  for (let y = y0; y < y1; y++) region.fill(1, y * width + x0, y * width + x1);
  return region;
}

test("the status says what is missing", () => {
  assert.deepEqual(checkPoints([], 64, 64), { missing: "no pairs yet", warnings: [], line: "no pairs yet: click the content to move, then where it goes", details: [] });
  const pending = checkPoints([{ handle: [1, 1], target: [2, 2] }, { handle: [3, 3], target: [4, 4] }, { handle: [5, 5], target: null }], 64, 64);
  assert.equal(pending.missing, "target for pair 3");
  assert.equal(pending.line, "missing the target for pair 3: click where it goes");
  assert.equal(checkPoints([{ handle: [1, 1], target: [2, 2] }], 64, 64).line, "1 pair ready");
});

test("a pair beyond the image (shipped or pasted without a size) is never ready", () => {
  const pairs = [{ handle: [1, 1], target: [2, 2] }, { handle: [60, 20], target: [64, 20] }, { handle: [3, 3], target: null }];
  const check = checkPoints(pairs, 64, 48);
  assert.equal(check.missing, "pair 2 inside the image");
  assert.match(check.line, /^pair 2 lies outside the 64×48 image, so the node refuses it: delete it/);
  assert.equal(checkPoints([{ handle: [63.99, 47.99], target: [0, 0] }], 64, 48).line, "1 pair ready", "the last pixel is inside");
  assert.equal(checkPoints([{ handle: [10, 48], target: null }], 64, 48).missing, "pair 1 inside the image", "a waiting handle too");
  assert.equal(checkPoints([{ handle: [-0.5, 4], target: [2, 2] }], 64, 48).missing, "pair 1 inside the image");
});

test("a handle outside the painted region is named (a target outside it is allowed, as FastDragWarp allows it)", () => {
  const region = rectangle(64, 48, [16, 8, 48, 40]);
  const pairs = [{ handle: [20, 20], target: [60, 2] }, { handle: [5, 20], target: [20, 20] }, { handle: [47.99, 39.99], target: null }, { handle: [48, 20], target: [30, 30] }];
  const { warnings, line, details } = checkPoints(pairs, 64, 48, { region });
  assert.deepEqual(warnings.map((w) => w.pair), [1, 3]);
  assert.match(warnings[0].reason, /outside the painted region/);
  assert.equal(line, "missing the target for pair 3: click where it goes");
  assert.deepEqual(details, [
    "pairs 2 and 4: their handles are outside the painted region (in the darkened part), so their content will not move",
  ], "every warning in full, one line per reason");
  assert.deepEqual(checkPoints(pairs, 64, 48).warnings, [], "without a region (the whole image) nothing is outside");
});

test("the handles outside FastDragWarp's circle are the ones the node refuses, on every fixture case", () => {
  for (const c of cases) {
    const mask = c.mask ? decodeRuns(c.mask, c.width * c.height) : null;
    const { warnings } = checkPoints(c.pairs, c.width, c.height, { circle: latentCircle(mask, c.width, c.height) });
    const outside = warnings.filter((w) => /circle/.test(w.reason)).map((w) => w.pair);
    if (c.outside_pair === undefined) assert.deepEqual(outside, [], c.name);
    else assert.equal(outside[0], c.outside_pair, c.name); // the node names the first one
  }
});

test("the circle is checked for every handle, also one waiting for its target; its warnings come first and win over the region's", () => {
  // Latent 16 x 16; the region's latent bounding box is 4..11 (centre 7.5, radius 4.95 latent pixels),
  // so the circle leaves out the painted rectangle's corners but takes in a strip beyond its edges.
  const [w, h] = [128, 128];
  const region = rectangle(w, h, [32, 32, 96, 96]);
  const circle = latentCircle(region, w, h);
  const pairs = [{ handle: [64, 64], target: [70, 70] }, { handle: [2, 2], target: null }, { handle: [94, 64], target: [64, 64] }, { handle: [64, 98], target: [64, 64] }, { handle: [94, 34], target: [64, 64] }];
  const { warnings, line, details } = checkPoints(pairs, w, h, { region, circle });
  assert.deepEqual(warnings.map((x) => [x.pair, /circle/.test(x.reason) ? "circle" : "region"]), [[1, "circle"], [4, "circle"], [3, "region"]]);
  assert.equal(line, "missing the target for pair 2: click where it goes");
  assert.deepEqual(details, [
    "pairs 2 and 5: their handles are outside FastDragWarp's circle around the mask: extend the mask, or FastDragWarp refuses them",
    "pair 4: its handle is outside the painted region (in the darkened part), so its content will not move",
  ]);
  assert.deepEqual(checkPoints(pairs, w, h, { region }).warnings.map((x) => x.pair), [1, 3], "without a known circle only the region is checked");
});

test("without a mask FastDragWarp's circle is the whole image's; an empty mask is refused as a whole", () => {
  const whole = latentCircle(null, 64, 48);
  assert.deepEqual(checkPoints([{ handle: [32, 24], target: [40, 30] }], 64, 48, { circle: whole }).warnings, []);
  const empty = checkPoints([{ handle: [32, 24], target: [40, 30] }], 64, 48, { region: new Uint8Array(64 * 48), circle: latentCircle(new Uint8Array(64 * 48), 64, 48) });
  assert.equal(empty.warnings[0].pair, null);
  assert.equal(empty.details[0], "FastDragWarp's mask is empty at latent resolution: paint a larger region, or FastDragWarp refuses it");
  assert.equal(empty.details.length, 2);
});
