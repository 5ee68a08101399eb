// Image <-> canvas coordinates and hit testing for the points editor.
// Image coordinates are pixels (x right, y down, origin top-left of the image), the same as DRAG_POINTS;
// canvas coordinates are CSS pixels of the canvas element. A view fits the image into the canvas,
// centred, keeping its aspect ratio, so resizing or zooming the node never moves the stored points.

/** The transform that fits a `width` x `height` image into a `canvasWidth` x `canvasHeight` canvas. */
export function fitView(width, height, canvasWidth, canvasHeight) {
  const scale = Math.min(canvasWidth / width, canvasHeight / height);
  return {
    scale,
    offsetX: (canvasWidth - width * scale) / 2,
    offsetY: (canvasHeight - height * scale) / 2,
    width,
    height,
  };
}

/** Canvas point [x, y] -> image point [x, y] (not clamped). */
export function toImage(view, [x, y]) {
  return [(x - view.offsetX) / view.scale, (y - view.offsetY) / view.scale];
}

/** Image point [x, y] -> canvas point [x, y]. */
export function toCanvas(view, [x, y]) {
  return [x * view.scale + view.offsetX, y * view.scale + view.offsetY];
}

/** Whether image point [x, y] lies inside the image (0 <= x < width, 0 <= y < height). */
export function insideImage(view, [x, y]) {
  return x >= 0 && y >= 0 && x < view.width && y < view.height;
}

/** The image point nearest to [x, y] that lies inside the image. */
export function clampToImage(view, [x, y]) {
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi - 1e-3);
  return [clamp(x, view.width), clamp(y, view.height)];
}

/**
 * The marker under canvas point `at`: {pair, which: "handle" | "target"} of the nearest marker within
 * `radius` canvas pixels, targets winning ties (they are drawn on top), or null.
 */
export function hitTest(view, pairs, at, radius) {
  let best = null;
  let bestDistance = radius;
  pairs.forEach((pair, index) => {
    for (const which of ["handle", "target"]) {
      if (!pair[which]) continue;
      const [cx, cy] = toCanvas(view, pair[which]);
      const distance = Math.hypot(cx - at[0], cy - at[1]);
      if (distance <= bestDistance) {
        best = { pair: index, which };
        bestDistance = distance;
      }
    }
  });
  return best;
}
