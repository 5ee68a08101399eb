// The points editor's preview of FastDragWarp: the relocation that the node computes on the latent grid
// (image / 8), computed here the way drag/fastdrag/warp.py and drag/fastdrag/to_latent.py compute it,
// then drawn on the image with each latent pixel moving its 8 x 8 block. So the preview shows what the
// node does, to the latent pixel.
//
// The node works in float32 with PyTorch's CPU kernels; this module repeats each float32 operation in
// the same order (Math.fround after every step; a 2-vector's norm as PyTorch's CPU kernel computes it,
// with one fused multiply-add; sums over the drags in the kernel's order), so its source maps equal
// the node's. tests/fixtures/warp_preview.json holds maps written by the Python code, and
// js/tests/warp_preview.test.mjs checks every one. Coordinates on the latent grid are (y, x).

const f = Math.fround;
const CIRCLE_EPS = f(1e-6); // PairwiseDistance's epsilon in the official get_circle
const WEIGHT_EPS = f(0.0001);

const LATENT_FACTOR = 8;

/** Round half to even, as torch.round. */
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** round(a * b + c) to float32 with a single rounding (a fused multiply-add); a, b, c are float32. */
function fmaf(a, b, c) {
  const p = a * b; // exact: two 24-bit significands
  const s = p + c;
  const r = f(s);
  // The double sum can land exactly on a midpoint between two float32 values while p + c lies off
  // it; then the error term of the sum says which way the single rounding goes.
  const other = 2 * s - r;
  if (r === s || f(other) !== other) return r;
  const bb = s - p;
  const error = p - (s - bb) + (c - bb);
  if (error === 0) return r;
  return error > 0 ? Math.max(r, other) : Math.min(r, other);
}

/** ‖(a, b)‖ in float32 as PyTorch's CPU vector_norm computes it: sqrt(fma(b, b, a·a)). */
function norm2(a, b) {
  return f(Math.sqrt(fmaf(b, b, f(a * a))));
}

/** Σ values[0..k) in float32 in the order of PyTorch's CPU sum kernel over a row: four interleaved
 * partial sums (every fourth element), the tail added to the first, then the four added in order. */
function rowSum(values, k) {
  const rows = k >> 2;
  let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
  for (let r = 0; r < rows; r++) {
    p0 = f(p0 + values[4 * r]);
    p1 = f(p1 + values[4 * r + 1]);
    p2 = f(p2 + values[4 * r + 2]);
    p3 = f(p3 + values[4 * r + 3]);
  }
  for (let i = rows * 4; i < k; i++) p0 = f(p0 + values[i]);
  return f(f(f(p0 + p1) + p2) + p3);
}

/** The official latent grid of an image: [height, width] = floor(size / 2) / 4, truncated. */
export function latentSize(width, height) {
  return [Math.trunc(Math.floor(0.5 * height) / 4), Math.trunc(Math.floor(0.5 * width) / 4)];
}

/**
 * Handles and targets of the complete pairs as latent (y, x), as the node maps them: through the
 * official half-resolution grid, rounded half to even there, then / 4 (multiples of 0.25).
 * `pairs`: [{handle: [x, y], target: [x, y]}] in image pixels of a width x height image.
 */
export function pointsToLatent(pairs, width, height) {
  const complete = pairs.filter((p) => p.handle && p.target);
  const convert = (point) => pointToLatent(point, width, height);
  return { handles: complete.map((p) => convert(p.handle)), targets: complete.map((p) => convert(p.target)) };
}

/** One image point [x, y] of a width x height image as latent (y, x), mapped as pointsToLatent maps it. */
export function pointToLatent([x, y], width, height) {
  return [roundHalfEven(f((y / height) * Math.floor(0.5 * height))) / 4, roundHalfEven(f((x / width) * Math.floor(0.5 * width))) / 4];
}

function nearestIndex(dst, inSize, outSize) {
  if (outSize === inSize) return dst;
  if (outSize === 2 * inSize) return dst >> 1;
  return Math.min(Math.floor(f(dst * f(inSize / outSize))), inSize - 1);
}

/** [index, offset (0 or 1), weight of index + offset > 0] of each output position of a bilinear resize
 * (align_corners off, no antialiasing), as PyTorch's CPU kernel computes them in float32. */
function bilinearTaps(inSize, outSize) {
  const scale = f(inSize / outSize);
  return Array.from({ length: outSize }, (_, dst) => {
    let real = f(f(scale * f(dst + 0.5)) - 0.5);
    if (real < 0) real = 0;
    const index = Math.min(Math.floor(real), inSize - 1);
    const lambda = Math.min(Math.max(f(real - index), 0), 1);
    return [index, index < inSize - 1 ? 1 : 0, lambda > 0];
  });
}

/**
 * The latent region FastDragWarp may move, from an image-resolution mask (Uint8Array, 1 = editable;
 * null = the whole image), as the node computes it: binarised, nearest to the half-resolution grid,
 * then a bilinear resize to the latent grid, kept where > 0. Returns a Uint8Array of lh x lw.
 */
export function maskToLatent(mask, width, height) {
  const [lh, lw] = latentSize(width, height);
  const region = new Uint8Array(lh * lw);
  if (!mask) return region.fill(1);
  const halfW = Math.floor(0.5 * width);
  const halfH = Math.floor(0.5 * height);
  const rowOf = Array.from({ length: halfH }, (_, y) => nearestIndex(y, height, halfH));
  const colOf = Array.from({ length: halfW }, (_, x) => nearestIndex(x, width, halfW));
  const half = (y, x) => mask[rowOf[y] * width + colOf[x]] > 0;
  const rows = bilinearTaps(halfH, lh);
  const cols = bilinearTaps(halfW, lw);
  for (let y = 0; y < lh; y++) {
    const [y0, dy, yWeight] = rows[y];
    for (let x = 0; x < lw; x++) {
      const [x0, dx, xWeight] = cols[x];
      region[y * lw + x] = half(y0, x0) || (xWeight && half(y0, x0 + dx)) || (yWeight && half(y0 + dy, x0)) || (xWeight && yWeight && half(y0 + dy, x0 + dx)) ? 1 : 0;
    }
  }
  return region;
}

/** The circle through the corners of the bounding box of the region (official get_circle): {cy, cx, r}, or null if empty. */
export function maskCircle(region, lh, lw) {
  let y0 = lh, x0 = lw, y1 = -1, x1 = -1;
  for (let y = 0; y < lh; y++) {
    for (let x = 0; x < lw; x++) {
      if (!region[y * lw + x]) continue;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
    }
  }
  if (y1 < 0) return null;
  const cy = f(f(y0 + y1) / 2);
  const cx = f(f(x0 + x1) / 2);
  return { cy, cx, r: norm2(f(f(cy - y0) + CIRCLE_EPS), f(f(cx - x0) + CIRCLE_EPS)) };
}

/** The circle FastDragWarp needs for an image-resolution mask (as maskToLatent takes it; null = the
 * whole image): the circle through the corners of the latent region's bounding box, or null when the
 * region is empty. */
export function latentCircle(mask, width, height) {
  const [lh, lw] = latentSize(width, height);
  return maskCircle(maskToLatent(mask, width, height), lh, lw);
}

/** FastDragWarp's circle ({cy, cx, r} on the latent grid of a width x height image) in image pixels: the
 * ellipse {x, y, rx, ry} of the image points whose latent position (pointToLatent's mapping, before its
 * rounding) lies inside it. */
export function circleInImage({ cy, cx, r }, width, height) {
  const [sx, sy] = [(4 * width) / Math.floor(0.5 * width), (4 * height) / Math.floor(0.5 * height)];
  return { x: cx * sx, y: cy * sy, rx: r * sx, ry: r * sy };
}

/** The handles' (latent (y, x)) offsets from the circle's centre and their distances to it, in float32
 * as the node computes them: {oay, oax, distance}. */
function handleOffsets(circle, handles) {
  const oay = handles.map(([hy]) => f(hy - circle.cy));
  const oax = handles.map(([, hx]) => f(hx - circle.cx));
  return { oay, oax, distance: handles.map((_, d) => norm2(oay[d], oax[d])) };
}

/** The indices of the handles (latent (y, x)) that lie outside the circle, which FastDragWarp refuses. */
export function handlesOutside(circle, handles) {
  return handleOffsets(circle, handles).distance.flatMap((distance, d) => (distance > circle.r ? [d] : []));
}

/**
 * FastDragWarp's source map on the latent grid: src[i] is the flat index of the latent pixel whose value
 * lands on pixel i, or -1 for a hole (a region pixel nothing was written to). Each region pixel goes to
 * its rounded, clamped destination (dest[i], flat; -1 where the warp is not finite, which the node
 * skips), then sourceMap applies them. Returns {src, dest} or {error} for what the node refuses (an empty
 * region, a handle outside the circle). `aggregation`: "inverse_distance" or "nearest_handle", as FastDragWarp.
 */
export function relocationMap(region, lh, lw, handles, targets, aggregation = "inverse_distance") {
  const circle = maskCircle(region, lh, lw);
  if (!circle) return { error: "the mask is empty at latent resolution" };
  const k = handles.length;
  const { oay, oax, distance: doa } = handleOffsets(circle, handles);
  const outside = doa.findIndex((distance) => distance > circle.r);
  if (outside >= 0) return { error: `the handle of pair ${outside + 1} lies outside the circle around the mask's bounding box`, pair: outside };
  const dragY = handles.map(([hy], d) => f(targets[d][0] - hy));
  const dragX = handles.map(([, hx], d) => f(targets[d][1] - hx));
  const r2 = f(circle.r * circle.r);
  const base = doa.map((distance) => f(r2 - f(distance * distance)));
  const nearest = aggregation === "nearest_handle";
  const scale = new Float64Array(k), distance = new Float64Array(k), weight = new Float64Array(k);
  const termY = new Float64Array(k), termX = new Float64Array(k);

  const dest = new Int32Array(lh * lw).fill(-1);
  for (let y = 0; y < lh; y++) {
    for (let x = 0; x < lw; x++) {
      const i = y * lw + x;
      if (!region[i]) continue;
      for (let d = 0; d < k; d++) {
        const acy = f(y - handles[d][0]);
        const acx = f(x - handles[d][1]);
        const dac = norm2(acy, acx);
        const ey = f(acy / dac);
        const ex = f(acx / dac);
        const l0 = f(f(f(acy * oay[d]) + f(acx * oax[d])) / dac);
        const l1 = f(Math.sqrt(f(base[d] + f(l0 * l0))));
        const t = f(l1 - l0);
        const apy = f(t * ey);
        const apx = f(t * ex);
        scale[d] = f(norm2(f(acy - apy), f(acx - apx)) / norm2(apy, apx));
        distance[d] = dac;
      }
      let vy, vx;
      if (nearest) {
        let best = 0;
        for (let d = 1; d < k; d++) if (distance[d] < distance[best]) best = d;
        vy = f(scale[best] * dragY[best]);
        vx = f(scale[best] * dragX[best]);
      } else {
        for (let d = 0; d < k; d++) weight[d] = f(1 / f(distance[d] + WEIGHT_EPS));
        const total = rowSum(weight, k);
        for (let d = 0; d < k; d++) {
          const ratio = f(weight[d] / total);
          termY[d] = f(ratio * f(scale[d] * dragY[d]));
          termX[d] = f(ratio * f(scale[d] * dragX[d]));
        }
        vy = rowSum(termY, k);
        vx = rowSum(termX, k);
      }
      const ty = roundHalfEven(f(y + vy));
      const tx = roundHalfEven(f(x + vx));
      if (!Number.isFinite(ty) || !Number.isFinite(tx)) continue; // the official code skips such a pixel
      dest[i] = Math.min(Math.max(ty, 0), lh - 1) * lw + Math.min(Math.max(tx, 0), lw - 1);
    }
  }
  return { src: sourceMap(region, dest), dest };
}

/**
 * The source map of per-pixel destinations (flat latent indices, -1 = not moved): region pixels are
 * cleared, then visited in raster order, each writing to its destination unless an earlier one did
 * (first writer wins), as the official relocation does.
 */
export function sourceMap(region, dest) {
  const src = new Int32Array(region.length);
  for (let i = 0; i < src.length; i++) src[i] = region[i] ? -1 : i;
  const written = new Uint8Array(region.length);
  for (let i = 0; i < dest.length; i++) {
    const j = dest[i];
    if (j < 0 || written[j]) continue;
    written[j] = 1;
    src[j] = i;
  }
  return src;
}

/**
 * How BNNI fills each hole, in the official order (raster order, in place): for every hole that has
 * one, its nearest present neighbour to the left, right, up and down (left and up may be holes filled
 * just before; right and down are original pixels) with weights 1 / distance. Returns a list of
 * {hole, neighbours: [[index, weight], ...]} in fill order; holes with no neighbour stay holes.
 */
export function bnniPlan(holes, lh, lw) {
  const nextRight = new Int32Array(lh * lw);
  const nextDown = new Int32Array(lh * lw);
  for (let y = lh - 1; y >= 0; y--) {
    let right = -1;
    for (let x = lw - 1; x >= 0; x--) {
      const i = y * lw + x;
      nextRight[i] = right;
      if (!holes[i]) right = x;
      const below = y + 1 < lh ? (holes[i + lw] ? nextDown[i + lw] : y + 1) : -1;
      nextDown[i] = below;
    }
  }
  const present = Uint8Array.from(holes, (h) => (h ? 0 : 1));
  const lastUp = new Int32Array(lw).fill(-1);
  const plan = [];
  for (let y = 0; y < lh; y++) {
    let lastLeft = -1;
    for (let x = 0; x < lw; x++) {
      const i = y * lw + x;
      if (holes[i]) {
        const neighbours = [];
        if (lastLeft >= 0) neighbours.push([y * lw + lastLeft, 1 / (x - lastLeft)]);
        if (nextRight[i] >= 0) neighbours.push([y * lw + nextRight[i], 1 / (nextRight[i] - x)]);
        if (lastUp[x] >= 0) neighbours.push([lastUp[x] * lw + x, 1 / (y - lastUp[x])]);
        if (nextDown[i] >= 0) neighbours.push([nextDown[i] * lw + x, 1 / (nextDown[i] - y)]);
        if (neighbours.length) {
          plan.push({ hole: i, neighbours });
          present[i] = 1;
        }
      }
      if (present[i]) {
        lastLeft = x;
        lastUp[x] = y;
      }
    }
  }
  return plan;
}

/**
 * Draw the image through a source map: each latent pixel's 8 x 8 block comes from its source block;
 * holes are drawn as a dark checker, or, with `fill`, with BNNI's fill of the block colours. Pixels
 * beyond the last whole block (image sizes that are not multiples of 8) are left as they are.
 * `pixels`: RGBA Uint8ClampedArray of width x height. Returns a new Uint8ClampedArray.
 */
export function drawRelocation(pixels, width, height, src, lh, lw, fill = false) {
  const out = new Uint8ClampedArray(pixels);
  const from = new Uint32Array(pixels.buffer, pixels.byteOffset, width * height);
  const to = new Uint32Array(out.buffer, out.byteOffset, width * height);
  const block = (cell) => (Math.floor(cell / lw) * LATENT_FACTOR) * width + (cell % lw) * LATENT_FACTOR;
  const holes = new Uint8Array(lh * lw);
  for (let cell = 0; cell < lh * lw; cell++) {
    const s = src[cell];
    if (s === cell) continue;
    const t = block(cell);
    if (s < 0) {
      holes[cell] = 1;
      for (let dy = 0; dy < LATENT_FACTOR; dy++) {
        for (let dx = 0; dx < LATENT_FACTOR; dx++) to[t + dy * width + dx] = ((dx >> 2) + (dy >> 2)) & 1 ? 0xff303030 : 0xff484848;
      }
      continue;
    }
    const o = block(s);
    for (let dy = 0; dy < LATENT_FACTOR; dy++) {
      const row = dy * width;
      for (let dx = 0; dx < LATENT_FACTOR; dx++) to[t + row + dx] = from[o + row + dx];
    }
  }
  if (fill) {
    for (const { hole, neighbours } of bnniPlan(holes, lh, lw)) {
      const t = 4 * block(hole);
      const total = neighbours.reduce((sum, [, w]) => sum + w, 0);
      const offsets = neighbours.map(([cell]) => 4 * block(cell) - t);
      const weights = neighbours.map(([, w]) => w / total);
      for (let dy = 0; dy < LATENT_FACTOR; dy++) {
        for (let p = t + 4 * dy * width, end = p + 4 * LATENT_FACTOR; p < end; p++) {
          if ((p & 3) === 3) continue; // alpha stays
          let v = 0;
          for (let n = 0; n < offsets.length; n++) v += weights[n] * out[p + offsets[n]];
          out[p] = v;
        }
      }
    }
  }
  return out;
}

/**
 * The preview of FastDragWarp for the editor: {pixels, src, lh, lw} (the warped RGBA image and the
 * source map), or {pixels: the image unchanged, error} when the node would refuse the points.
 * `pairs` in image pixels as the node gets them, `mask` the image-resolution editable region (null =
 * the whole image), `aggregation` the FastDragWarp option, `fill` whether to show BNNI's fill.
 */
export function warpPreview(pixels, width, height, pairs, mask, { aggregation = "inverse_distance", fill = false } = {}) {
  const [lh, lw] = latentSize(width, height);
  const { handles, targets } = pointsToLatent(pairs, width, height);
  if (!handles.length || !lh || !lw) return { pixels, lh, lw };
  const { src, error, pair } = relocationMap(maskToLatent(mask, width, height), lh, lw, handles, targets, aggregation);
  if (error) return { pixels, lh, lw, error, pair };
  return { pixels: drawRelocation(pixels, width, height, src, lh, lw, fill), src, lh, lw };
}
