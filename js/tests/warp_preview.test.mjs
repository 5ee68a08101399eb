import assert from "node:assert/strict";
import { test } from "node:test";

import { maskCircle, warpPreview } from "../lib/warp_preview.js";

function image(width, height) {
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) pixels.set([i % 251, (i * 7) % 253, (i * 13) % 255, 255], 4 * i);
  return pixels;
}

test("the circle passes through the corners of the mask's bounding box", () => {
  const mask = new Uint8Array(10 * 10);
  mask[2 * 10 + 3] = mask[6 * 10 + 7] = 1;
  const c = maskCircle(mask, 10, 10);
  assert.deepEqual([c.cx, c.cy], [5, 4]);
  assert.ok(Math.abs(c.r - Math.hypot(2, 2)) < 1e-12);
  assert.equal(maskCircle(new Uint8Array(4), 2, 2), null);
});

test("the pixel under a handle lands on its target; outside the mask nothing changes", () => {
  const [w, h] = [64, 48];
  const pixels = image(w, h);
  const mask = new Uint8Array(w * h);
  for (let y = 8; y < 40; y++) for (let x = 8; x < 56; x++) mask[y * w + x] = 1;
  const { pixels: out, holes } = warpPreview(pixels, w, h, [{ handle: [20, 24], target: [30, 24] }], mask);
  const at = (p, x, y) => [...p.subarray(4 * (y * w + x), 4 * (y * w + x) + 4)];
  assert.deepEqual(at(out, 30, 24), at(pixels, 20, 24));
  assert.deepEqual(at(out, 2, 2), at(pixels, 2, 2));
  assert.ok(holes.some((v) => v) && !holes[2 * w + 2]);
});

test("identity drags and unfinished pairs leave the image as it is", () => {
  const pixels = image(32, 32);
  const same = warpPreview(pixels, 32, 32, [{ handle: [10, 10], target: [10, 10] }, { handle: [5, 5], target: null }], null);
  assert.deepEqual(same.pixels, pixels);
  assert.ok(!same.holes.some((v) => v));
});
