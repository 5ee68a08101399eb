import assert from "node:assert/strict";
import { test } from "node:test";

import { BRUSH_SIZES, DEFAULT_BRUSH, toolOf } from "../lib/tool.js";

test("a kept tool comes back as it was", () => {
  assert.deepEqual(toolOf({ mode: "erase", brush: 40 }), { mode: "erase", brush: 40 });
});

test("an unknown or missing tool is the points tool with the default brush", () => {
  assert.deepEqual(toolOf({}), { mode: "points", brush: DEFAULT_BRUSH });
  assert.deepEqual(toolOf(), { mode: "points", brush: DEFAULT_BRUSH });
  assert.deepEqual(toolOf({ mode: "lasso", brush: "big" }), { mode: "points", brush: DEFAULT_BRUSH });
  assert.deepEqual(toolOf({ mode: "paint", brush: NaN }), { mode: "paint", brush: DEFAULT_BRUSH });
});

test("a brush out of range or fractional is rounded into the slider's range", () => {
  assert.equal(toolOf({ brush: 0 }).brush, BRUSH_SIZES.min);
  assert.equal(toolOf({ brush: 1000 }).brush, BRUSH_SIZES.max);
  assert.equal(toolOf({ brush: 17.6 }).brush, 18);
});
