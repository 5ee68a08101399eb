import assert from "node:assert/strict";
import { test } from "node:test";

import { MAX_ZOOM, cameraView, clampToImage, fitCamera, fitView, hitTest, insideImage, panBy, toCanvas, toImage, zoomAt } from "../lib/geometry.js";

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
  assert.ok(x < 10 && x >= 9.99 && y === 0);
});

test("hit testing finds the nearest marker within the radius, targets first on ties", () => {
  const view = fitView(100, 100, 100, 100);
  const pairs = [{ handle: [10, 10], target: [10, 10] }, { handle: [50, 50], target: null }];
  assert.deepEqual(hitTest(view, pairs, [11, 10], 5), { pair: 0, which: "target" });
  assert.deepEqual(hitTest(view, pairs, [53, 50], 5), { pair: 1, which: "handle" });
  assert.equal(hitTest(view, pairs, [30, 30], 5), null);
});

const near = (a, b, label) => assert.ok(Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9, `${label}: ${a} != ${b}`);

test("the camera at zoom 1 shows the fitted image; zooming keeps the image pixel under the cursor", () => {
  const [w, h, cw, ch] = [256, 192, 500, 420];
  assert.deepEqual(cameraView(w, h, cw, ch, fitCamera(w, h)), fitView(w, h, cw, ch));
  assert.deepEqual(cameraView(w, h, cw, ch, null), fitView(w, h, cw, ch));
  let camera = fitCamera(w, h);
  const cursor = [120, 300];
  const under = toImage(cameraView(w, h, cw, ch, camera), cursor);
  for (const factor of [1.5, 2, 3.7]) {
    camera = zoomAt(camera, cameraView(w, h, cw, ch, camera), cw, ch, cursor, factor);
    near(toImage(cameraView(w, h, cw, ch, camera), cursor), under, `after zooming by ${factor}`);
  }
  assert.ok(Math.abs(camera.zoom - 1.5 * 2 * 3.7) < 1e-9);
  assert.ok(Math.abs(cameraView(w, h, cw, ch, camera).scale - fitView(w, h, cw, ch).scale * camera.zoom) < 1e-9);
  const most = zoomAt(camera, cameraView(w, h, cw, ch, camera), cw, ch, cursor, 1000);
  assert.equal(most.zoom, MAX_ZOOM);
  assert.deepEqual(zoomAt(camera, cameraView(w, h, cw, ch, camera), cw, ch, cursor, 1e-3), fitCamera(w, h), "zooming out ends at the fitted, centred image");
});

test("panning moves the image with the pointer, keeps its centre on the image, and does nothing at zoom 1", () => {
  const [w, h, cw, ch] = [256, 192, 500, 420];
  const camera = { zoom: 4, x: 100, y: 80 };
  const view = cameraView(w, h, cw, ch, camera);
  const grabbed = toImage(view, [250, 200]);
  const moved = panBy(camera, view, [30, -12]);
  near(toImage(cameraView(w, h, cw, ch, moved), [280, 188]), grabbed, "the grabbed pixel follows the pointer");
  assert.deepEqual(panBy(camera, view, [1e6, -1e6]), { zoom: 4, x: 0, y: h }, "the centre stays on the image");
  assert.deepEqual(panBy(fitCamera(w, h), fitView(w, h, cw, ch), [40, 40]), fitCamera(w, h));
});
