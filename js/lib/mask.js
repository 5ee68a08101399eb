// The editable-region mask of the points editor: brush rasterisation and compact storage.
// A mask is a Uint8Array of width * height values in raster order (row by row), 1 = editable.
// Painting edits a second layer of the same size: 0 = untouched, 1 = painted in, 2 = erased, so a
// mask that comes into the node from upstream can be refined without being stored in the workflow.

export const UNTOUCHED = 0;
export const PAINTED = 1;
export const ERASED = 2;

/**
 * Set `value` on every pixel whose centre lies within `radius` pixels of the segment from `from` to
 * `to` (image coordinates): one brush stroke step, a capsule. Returns the number of pixels changed.
 */
export function stampSegment(layer, width, height, from, to, radius, value) {
  const [ax, ay] = from;
  const [bx, by] = to;
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - radius));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(ax, bx) + radius));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - radius));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(ay, by) + radius));
  const dx = bx - ax;
  const dy = by - ay;
  const length2 = dx * dx + dy * dy;
  const r2 = radius * radius;
  let changed = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5 - ax;
      const py = y + 0.5 - ay;
      const t = length2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / length2)) : 0;
      const ex = px - t * dx;
      const ey = py - t * dy;
      if (ex * ex + ey * ey <= r2) {
        const i = y * width + x;
        if (layer[i] !== value) {
          layer[i] = value;
          changed++;
        }
      }
    }
  }
  return changed;
}

/** The mask the node outputs: `base` (the incoming mask, or null) with the edits applied.
 * Without a base, painted pixels are editable and everything else is not. */
export function composite(base, edits) {
  const out = new Uint8Array(edits.length);
  for (let i = 0; i < edits.length; i++) {
    const e = edits[i];
    out[i] = e === PAINTED ? 1 : e === ERASED ? 0 : base ? base[i] : 0;
  }
  return out;
}

/** Whether any pixel was painted or erased. */
export function hasEdits(edits) {
  return edits.some((v) => v !== UNTOUCHED);
}

/** Run-length encoding: [value, count, value, count, ...] over the raster order. */
export function encodeRuns(layer) {
  const runs = [];
  let i = 0;
  while (i < layer.length) {
    const value = layer[i];
    let j = i + 1;
    while (j < layer.length && layer[j] === value) j++;
    runs.push(value, j - i);
    i = j;
  }
  return runs;
}

/** The inverse of encodeRuns; throws unless the runs cover exactly `size` values in 0..2. */
export function decodeRuns(runs, size) {
  const layer = new Uint8Array(size);
  let at = 0;
  for (let k = 0; k + 1 < runs.length; k += 2) {
    const [value, count] = [runs[k], runs[k + 1]];
    if (!Number.isInteger(value) || value < 0 || value > 2 || !Number.isInteger(count) || count <= 0 || at + count > size) {
      throw new Error(`mask runs are malformed at run ${k / 2}`);
    }
    layer.fill(value, at, at + count);
    at += count;
  }
  if (at !== size || runs.length % 2 !== 0) throw new Error(`mask runs cover ${at} pixels, expected ${size}`);
  return layer;
}

/** The mask a mask image shows (RGBA bytes `data`, raster order, as ImageData holds them): 1 where its red
 * channel is over half (ComfyUI's mask previews are grey), else 0. */
export function maskFromImage(data) {
  const mask = new Uint8Array(data.length / 4);
  for (let i = 0; i < mask.length; i++) mask[i] = data[4 * i] > 127 ? 1 : 0;
  return mask;
}
