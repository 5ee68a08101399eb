// The working size Scale Image for Drag (DragImageScale) gives an image: drag/image_size.py's rule, in the same
// double-precision steps and with the same rounding (half to even), so that the canvas can show a LoadImage's
// file at the size the node will receive before any run, and the points placed on it fit that image exactly.

/** Round half to even, as Python's round(). */
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * [width, height] in pixels of a `width` x `height` image after Scale Image for Drag with `fit` ("area",
 * "width" or "keep"), `size` and `multiple` (its multiple_of): see drag/image_size.working_size.
 */
export function workingSize(width, height, size, fit, multiple) {
  let sides;
  if (fit === "area") {
    const coef = Math.sqrt((size * size) / (width * height));
    sides = [width * coef, height * coef];
  } else if (fit === "width") {
    sides = [size, (size * height) / width];
  } else if (fit === "keep") {
    sides = [width, height];
  } else {
    throw new Error(`fit: ${JSON.stringify(fit)} is not one of area, width, keep`);
  }
  return sides.map((side) => Math.max(1, roundHalfEven(side / multiple)) * multiple);
}
