// Painting the points editor's marks on its canvas: each pair's dots, arrow and numbered badges (where
// they go: js/lib/marks.js), FastDragWarp's circle, and the brush's footprint. Points here are canvas
// layout points; `view` is the image's placement (js/lib/geometry.js).

import { toCanvas } from "../lib/geometry.js";
import { pairMarks } from "../lib/marks.js";

const HANDLE_COLOUR = "#e5484d";
const TARGET_COLOUR = "#3e9bff";
export const WARNING_COLOUR = "#ffb224";

/** The marks of a scene (js/lib/scene.js editorScene) over its image: the circle, then the pairs with
 * badges of radius `r` (canvas pixels), then the brush. */
export function paintMarks(ctx, view, scene, r) {
  if (scene.circle) paintCircle(ctx, view, scene.circle);
  scene.pairs.forEach((pair, i) => paintPair(ctx, view, pair, i + 1, r, scene.warned.has(i)));
  if (scene.brush) paintBrush(ctx, scene.brush.at, scene.brush.radius * view.scale);
}

/** FastDragWarp's circle ({x, y, rx, ry}, image pixels) as a warning-coloured outline. */
function paintCircle(ctx, view, { x, y, rx, ry }) {
  ctx.save();
  ctx.strokeStyle = WARNING_COLOUR;
  ctx.globalAlpha = 0.9;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.ellipse(...toCanvas(view, [x, y]), rx * view.scale, ry * view.scale, 0, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
}

/** Pair `number` ({handle, target}, image pixels): dots, the arrow between them and the badges; `warned`:
 * in the warning style (a dashed ring around the handle). */
function paintPair(ctx, view, pair, number, r, warned) {
  const h = toCanvas(view, pair.handle);
  const t = pair.target ? toCanvas(view, pair.target) : null;
  const marks = pairMarks(h, t, r);
  const handleColour = warned ? WARNING_COLOUR : HANDLE_COLOUR;
  if (marks.arrow) {
    const { from, to, head } = marks.arrow;
    const angle = Math.atan2(to[1] - from[1], to[0] - from[0]);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = Math.max(1.5, 0.25 * r);
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    for (const side of [-1, 1]) {
      ctx.moveTo(...to);
      ctx.lineTo(to[0] - head * Math.cos(angle + side * 0.45), to[1] - head * Math.sin(angle + side * 0.45));
    }
    ctx.stroke();
  }
  if (warned) {
    // A dashed ring around the handle, wide enough to see past the dot at any zoom.
    ctx.strokeStyle = WARNING_COLOUR;
    ctx.lineWidth = Math.max(1.5, 0.2 * r);
    ctx.setLineDash([0.5 * r, 0.35 * r]);
    ctx.beginPath();
    ctx.arc(...h, 1.6 * marks.dot + 0.3 * r, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  // The target's dot on top: where the content goes is what a short drag must not hide.
  paintDot(ctx, h, marks.dot, handleColour);
  if (t) paintDot(ctx, t, marks.dot, TARGET_COLOUR);
  paintBadge(ctx, marks.handleBadge, r, handleColour, warned ? "#000" : "#fff", number);
  if (t) paintBadge(ctx, marks.targetBadge, r, TARGET_COLOUR, "#fff", number);
}

function paintDot(ctx, [x, y], radius, colour) {
  ctx.fillStyle = colour;
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = Math.max(1, 0.35 * radius);
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
}

/** A numbered badge of radius `r`; the text shrinks to fit, so that two or three digits stay inside. */
function paintBadge(ctx, [x, y], r, colour, ink, label) {
  ctx.fillStyle = colour;
  ctx.strokeStyle = "rgba(0,0,0,0.6)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
  const text = String(label);
  let font = 1.15 * r;
  ctx.font = `bold ${font}px sans-serif`;
  const width = ctx.measureText(text).width;
  if (width > 1.6 * r) {
    font *= (1.6 * r) / width;
    ctx.font = `bold ${font}px sans-serif`;
  }
  ctx.fillStyle = ink;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(text, x, y + 0.05 * font);
}

/** The brush's footprint at its true size (canvas point `at`, `radius` in canvas pixels): a light ring
 * on a dark one, seen on any image. */
function paintBrush(ctx, at, radius) {
  for (const [colour, width] of [["rgba(0,0,0,0.8)", 3], ["#fff", 1.5]]) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.arc(...at, Math.max(1, radius), 0, 2 * Math.PI);
    ctx.stroke();
  }
}
