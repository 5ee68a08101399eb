// FastDrag's warp applied to the image in pixel space, to preview where content will move.
// The same latent warpage function as the FastDragWarp node (drag/fastdrag/warp.py), evaluated per
// image pixel instead of per latent pixel: each editable pixel C moves by the inverse-distance blend
// over drags i of s_i(C) * (target_i - handle_i), where the stretch factor s_i is 1 at the handle and
// falls linearly to 0 where the ray from the handle through C leaves the circle around the mask's
// bounding box. Destinations are rounded and clamped; the first pixel in raster order to land on a
// spot wins; editable pixels nothing lands on are holes (what BNNI fills in the real edit).

/** The circle through the corners of the bounding box of the editable pixels: {cx, cy, r} or null. */
export function maskCircle(mask, width, height) {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return null;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return { cx, cy, r: Math.hypot(x1 - cx, y1 - cy) };
}

function stretch(ax, ay, px, py, circle) {
  const acx = px - ax;
  const acy = py - ay;
  const dac = Math.sqrt(acx * acx + acy * acy);
  if (dac === 0) return 1;
  const oax = ax - circle.cx;
  const oay = ay - circle.cy;
  const l0 = (acx * oax + acy * oay) / dac;
  const l1 = Math.sqrt(circle.r * circle.r - (oax * oax + oay * oay) + l0 * l0);
  const ap = l1 - l0; // distance from the handle to the circle along the ray
  return ap > 0 ? Math.max(0, (ap - dac) / ap) : 0;
}

/**
 * Warp `pixels` (RGBA Uint8ClampedArray, width x height) by the complete pairs of `pairs` within
 * `mask` (Uint8Array, 1 = may move; null = the whole image). Returns {pixels, holes}: the warped RGBA
 * image (holes keep their original colour) and a Uint8Array marking the holes.
 */
export function warpPreview(pixels, width, height, pairs, mask) {
  const region = mask || new Uint8Array(width * height).fill(1);
  const drags = pairs.filter((p) => p.target);
  const out = new Uint8ClampedArray(pixels);
  const holes = new Uint8Array(width * height);
  const circle = maskCircle(region, width, height);
  if (!drags.length || !circle) return { pixels: out, holes };
  const k = drags.length;
  const hx = Float64Array.from(drags, (d) => d.handle[0]);
  const hy = Float64Array.from(drags, (d) => d.handle[1]);
  const mx = Float64Array.from(drags, (d) => d.target[0] - d.handle[0]);
  const my = Float64Array.from(drags, (d) => d.target[1] - d.handle[1]);
  const source = new Uint32Array(pixels.buffer, pixels.byteOffset, width * height);
  const target = new Uint32Array(out.buffer, out.byteOffset, width * height);
  // Every editable pixel is cleared first; it becomes a hole unless something lands on it.
  for (let i = 0; i < region.length; i++) holes[i] = region[i] ? 1 : 0;
  const written = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!region[i]) continue;
      let total = 0, vx = 0, vy = 0;
      for (let d = 0; d < k; d++) {
        const ex = x - hx[d];
        const ey = y - hy[d];
        const w = 1 / (Math.sqrt(ex * ex + ey * ey) + 1e-4);
        const s = w * stretch(hx[d], hy[d], x, y, circle);
        total += w;
        vx += s * mx[d];
        vy += s * my[d];
      }
      const dx = Math.min(width - 1, Math.max(0, Math.round(x + vx / total)));
      const dy = Math.min(height - 1, Math.max(0, Math.round(y + vy / total)));
      const j = dy * width + dx;
      if (written[j]) continue;
      written[j] = 1;
      holes[j] = 0;
      target[j] = source[i];
    }
  }
  return { pixels: out, holes };
}
