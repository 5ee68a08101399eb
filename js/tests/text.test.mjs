import assert from "node:assert/strict";
import { test } from "node:test";

import { wrapLines } from "../lib/text.js";

const measure = (line) => line.length; // one unit a character

test("lines break at spaces, none wider than the width", () => {
  const text = "The image comes from Upscale Image; fetch it to place points";
  const lines = wrapLines(text, 24, measure);
  assert.deepEqual(lines, ["The image comes from", "Upscale Image; fetch it", "to place points"]);
  assert.ok(lines.every((line) => measure(line) <= 24));
  assert.equal(lines.join(" "), text);
});

test("text that fits stays one line; a word wider than the width gets its own", () => {
  assert.deepEqual(wrapLines("Fetch image", 40, measure), ["Fetch image"]);
  assert.deepEqual(wrapLines("a verylongfilename.png b", 6, measure), ["a", "verylongfilename.png", "b"]);
  assert.deepEqual(wrapLines("  ", 10, measure), []);
});
