import assert from "node:assert/strict";
import { test } from "node:test";

import { clampToImage, fitView, hitTest, insideImage, toCanvas, toImage } from "../lib/geometry.js";

test("a wide image is fitted to the canvas width and centred vertically", () => {
  const view = fitView(200, 100, 400, 400);
  assert.equal(view.scale, 2);
  assert.deepEqual([view.offsetX, view.offsetY], [0, 100]);
  assert.deepEqual(toCanvas(view, [50, 25]), [100, 150]);
  assert.deepEqual(toImage(view, [100, 150]), [50, 25]);
});

test("image coordinates survive any canvas size (resizing never moves points)", () => {
  const point = [123.25, 45.5];
  for (const [w, h] of [[300, 300], [1024, 200], [77, 555]]) {
    const view = fitView(512, 384, w, h);
    const back = toImage(view, toCanvas(view, point));
    assert.ok(Math.abs(back[0] - point[0]) < 1e-9 && Math.abs(back[1] - point[1]) < 1e-9);
  }
});

test("inside and clamping follow DRAG_POINTS' convention 0 <= x < width", () => {
  const view = fitView(10, 5, 10, 5);
  assert.ok(insideImage(view, [0, 0]) && insideImage(view, [9.9, 4.9]));
  assert.ok(!insideImage(view, [10, 0]) && !insideImage(view, [-0.1, 2]));
  const [x, y] = clampToImage(view, [12, -3]);
  assert.ok(x < 10 && x > 9.99 && y === 0);
});

test("hit testing finds the nearest marker within the radius, targets first on ties", () => {
  const view = fitView(100, 100, 100, 100);
  const pairs = [{ handle: [10, 10], target: [10, 10] }, { handle: [50, 50], target: null }];
  assert.deepEqual(hitTest(view, pairs, [11, 10], 5), { pair: 0, which: "target" });
  assert.deepEqual(hitTest(view, pairs, [53, 50], 5), { pair: 1, which: "handle" });
  assert.equal(hitTest(view, pairs, [30, 30], 5), null);
});
