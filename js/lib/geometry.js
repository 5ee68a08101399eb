// Image <-> canvas coordinates and hit testing for the points editor.
// Image coordinates are pixels (x right, y down, origin top-left of the image), the same as DRAG_POINTS;
// canvas coordinates are CSS pixels of the canvas element's layout box (before the graph's zoom, which
// scales the whole element). A view fits the image into the canvas, centred, keeping its aspect ratio,
// then magnifies it about a chosen image point (the camera: the canvas's own zoom and pan), so resizing
// or zooming the node or the canvas never moves the stored points.

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

/** How many times the canvas can magnify the fitted image (enough to place points on single pixels). */
export const MAX_ZOOM = 32;

/**
 * The view of a `width` x `height` image on a `canvasWidth` x `canvasHeight` canvas through `camera`
 * {zoom, x, y}: the fitted view magnified `zoom` times with image point (x, y) at the canvas centre.
 * Zoom 1 (or no camera) is the fitted view itself.
 */
export function cameraView(width, height, canvasWidth, canvasHeight, camera) {
  const fit = fitView(width, height, canvasWidth, canvasHeight);
  if (!camera || camera.zoom === 1) return fit;
  const scale = fit.scale * camera.zoom;
  return { scale, offsetX: canvasWidth / 2 - camera.x * scale, offsetY: canvasHeight / 2 - camera.y * scale, width, height };
}

/** The camera that shows the whole image (zoom 1, centred). */
export function fitCamera(width, height) {
  return { zoom: 1, x: width / 2, y: height / 2 };
}

/** Keep the centre on the image, so that panning or zooming never loses it; zoom 1 is always centred. */
function settle(view, zoom, x, y) {
  if (zoom <= 1) return fitCamera(view.width, view.height);
  return { zoom, x: Math.min(Math.max(x, 0), view.width), y: Math.min(Math.max(y, 0), view.height) };
}

/**
 * The camera after zooming by `factor` about canvas point `at`, where `view` is the current view (of
 * `camera`) on a `canvasWidth` x `canvasHeight` canvas: the image point under `at` stays under it.
 * Zoom stays within [1, MAX_ZOOM].
 */
export function zoomAt(camera, view, canvasWidth, canvasHeight, at, factor) {
  const zoom = Math.min(Math.max(camera.zoom * factor, 1), MAX_ZOOM);
  const [px, py] = toImage(view, at);
  const scale = (view.scale / camera.zoom) * zoom;
  return settle(view, zoom, px - (at[0] - canvasWidth / 2) / scale, py - (at[1] - canvasHeight / 2) / scale);
}

/** The camera after the image was dragged by [dx, dy] canvas pixels in `view` (the view of `camera`). */
export function panBy(camera, view, [dx, dy]) {
  return settle(view, camera.zoom, camera.x - dx / view.scale, camera.y - dy / view.scale);
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

/** The image point nearest to [x, y] that lies inside the image, also once the document rounds it to its
 * 0.01 px (a point kept at width - 0.001 would be stored at width, outside the image the node accepts). */
export function clampToImage(view, [x, y]) {
  const clamp = (v, hi) => Math.min(Math.max(v, 0), hi - 0.01);
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
