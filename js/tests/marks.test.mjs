import assert from "node:assert/strict";
import { test } from "node:test";

import { markRadius, pairMarks } from "../lib/marks.js";

const distance = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** Distance from point p to the segment a-b. */
function toSegment(p, a, b) {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const t = Math.min(1, Math.max(0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)));
  return distance(p, [a[0] + t * dx, a[1] + t * dy]);
}

test("marks grow with the shown image, within readable bounds", () => {
  assert.equal(markRadius(100, 75), 6);
  assert.ok(markRadius(500, 375) > markRadius(300, 225));
  assert.equal(markRadius(4000, 3000), 18);
});

test("at any drag length and direction: the arrowhead shows, and no badge covers a dot, the arrow or the other badge", () => {
  const r = 9;
  const handle = [200, 150];
  for (const length of [0.5, 1, 2, 4, 7, 10, 15, 20, 30, 60, 200]) {
    for (let k = 0; k < 16; k++) {
      const angle = (k / 16) * 2 * Math.PI;
      const target = [handle[0] + length * Math.cos(angle), handle[1] + length * Math.sin(angle)];
      const { dot, arrow, handleBadge, targetBadge } = pairMarks(handle, target, r);
      const u = [Math.cos(angle), Math.sin(angle)];
      const label = `length ${length}, angle ${k}/16`;
      // The head: from the tip back along the drag by its length; none of it under a dot.
      const base = [arrow.to[0] - u[0] * arrow.head, arrow.to[1] - u[1] * arrow.head];
      for (const centre of [handle, target]) assert.ok(toSegment(centre, base, arrow.to) >= dot - 1e-9, `${label}: the head is under a dot`);
      assert.ok(distance(arrow.to, handle) > distance(base, handle), `${label}: the head points along the drag`);
      const halfWidth = arrow.head * Math.sin(0.45);
      for (const badge of [handleBadge, targetBadge]) {
        assert.ok(toSegment(badge, arrow.from, arrow.to) >= r + halfWidth, `${label}: a badge covers the arrow`);
        for (const centre of [handle, target]) assert.ok(distance(badge, centre) >= r + dot, `${label}: a badge covers a dot`);
      }
      assert.ok(distance(handleBadge, targetBadge) >= 2 * r, `${label}: the badges overlap`);
    }
  }
});

test("a long drag's arrow runs from the handle to the target dot's edge; without a drag there is no arrow", () => {
  const { dot, arrow } = pairMarks([0, 0], [100, 0], 10);
  assert.deepEqual(arrow.from, [0, 0]);
  assert.deepEqual(arrow.to, [100 - dot, 0]);
  const still = pairMarks([5, 5], [5, 5], 10);
  assert.equal(still.arrow, null);
  assert.ok(distance(still.handleBadge, still.targetBadge) >= 20);
  const waiting = pairMarks([50, 50], null, 10);
  assert.equal(waiting.targetBadge, null);
  assert.ok(waiting.handleBadge[1] < 50 && waiting.handleBadge[0] === 50, "a handle waiting for its target has its badge above it");
});
