// Where the points editor draws a pair's marks, in canvas CSS pixels. Each point is a small dot at its
// exact position and its number sits in a badge beside it, off the line of the drag, so that the arrow
// between the dots is never covered and a drag of a pixel or two still shows its direction.

/** The badge radius for an image fitted into `width` x `height` canvas pixels: marks grow with the
 * shown image (a small node gets small marks, a large one large marks), within readable bounds. */
export function markRadius(width, height) {
  return Math.min(Math.max(0.024 * Math.sqrt(width * height), 6), 18);
}

const EPSILON = 1e-6;

/**
 * The marks of one pair at badge radius `r`; `handle` and `target` are canvas points [x, y] (target
 * null while the pair waits for it). Returns {dot, arrow, handleBadge, targetBadge}:
 * - dot: the radius of the dots drawn on the points;
 * - arrow: {from, to, head} (head: the arrowhead's length; the shaft runs from the handle's centre,
 *   under its dot), or null without a target or without a drag. It ends at the target dot's edge; a drag
 *   too short to show a head there ends beyond the target dot instead, so the head is never hidden;
 * - handleBadge, targetBadge: the badges' centres, beside the points on opposite sides of the drag's
 *   line, clear of the dots, the arrow and each other; without a target the handle's badge is above it.
 */
export function pairMarks(handle, target, r) {
  const dot = Math.max(0.4 * r, 2.5);
  const head = 0.9 * r;
  const gap = dot + 0.15 * r + r; // badge centre to its point: the badge clears the line by more than the head's half-width
  const [dx, dy] = target ? [target[0] - handle[0], target[1] - handle[1]] : [0, 0];
  const length = Math.hypot(dx, dy);
  const [ux, uy] = length > EPSILON ? [dx / length, dy / length] : [1, 0];
  const [nx, ny] = [-uy, ux];
  const handleBadge = [handle[0] - nx * gap, handle[1] - ny * gap];
  if (!target) return { dot, arrow: null, handleBadge, targetBadge: null };
  const targetBadge = [target[0] + nx * gap, target[1] + ny * gap];
  if (length <= EPSILON) return { dot, arrow: null, handleBadge, targetBadge };
  const end = length - 2 * dot >= 2 * head ? -dot : dot + head; // along the drag, from the target
  return { dot, arrow: { from: handle, to: [target[0] + ux * end, target[1] + uy * end], head }, handleBadge, targetBadge };
}
