import assert from "node:assert/strict";
import { test } from "node:test";

import { workingSize } from "../lib/working_size.js";

// The same cases as tests/test_image_size.py, so the canvas and the node agree on every size.
test("the demos' rules give the sizes the node gives", () => {
  assert.deepEqual(workingSize(4000, 3000, 512, "area", 64), [576, 448]);
  assert.deepEqual(workingSize(4000, 3000, 512, "width", 8), [512, 384]);
  assert.deepEqual(workingSize(3000, 4000, 512, "width", 8), [512, 680]);
  assert.deepEqual(workingSize(4000, 3000, 1024, "area", 64), [1152, 896]);
  assert.deepEqual(workingSize(4000, 3000, 768, "area", 8), [888, 664]);
  assert.deepEqual(workingSize(512, 512, 512, "area", 64), [512, 512]);
  assert.deepEqual(workingSize(130, 96, 512, "keep", 8), [128, 96]);
  assert.deepEqual(workingSize(10000, 10, 512, "area", 64), [16192, 64]);
});

test("halves round to even, as Python's round", () => {
  assert.deepEqual(workingSize(96, 160, 0, "keep", 64), [128, 128]); // 1.5 -> 2, 2.5 -> 2
  assert.deepEqual(workingSize(224, 288, 0, "keep", 64), [256, 256]); // 3.5 -> 4, 4.5 -> 4
  assert.throws(() => workingSize(10, 10, 512, "height", 64), /fit: "height" is not one of area, width, keep/);
});
