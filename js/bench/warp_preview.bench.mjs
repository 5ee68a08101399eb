// Time of the points editor's warp preview (js/lib/warp_preview.js): the node's relocation map on the latent
// grid, then the image drawn through it, for 512x512 and 1024x1024 images with 1, 3 and 6 drags over the
// whole image (the largest region), with holes drawn as holes and with BNNI's fill.
// Run: node js/bench/warp_preview.bench.mjs   (Node runs it on one core; the machine's load is printed)
import { cpus, loadavg } from "node:os";

import { warpPreview } from "../lib/warp_preview.js";

console.log(`${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
for (const size of [512, 1024]) {
  const pixels = new Uint8ClampedArray(size * size * 4).map((_, i) => i % 251);
  for (const count of [1, 3, 6]) {
    const pairs = Array.from({ length: count }, (_, i) => ({
      handle: [size * (0.3 + 0.08 * i), size * 0.4],
      target: [size * (0.35 + 0.08 * i), size * 0.45],
    }));
    for (const fill of [false, true]) {
      for (let r = 0; r < 3; r++) warpPreview(pixels, size, size, pairs, null, { fill });
      const times = [];
      for (let r = 0; r < 9; r++) {
        const start = performance.now();
        warpPreview(pixels, size, size, pairs, null, { fill });
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      console.log(`${size}x${size}, ${count} drag(s)${fill ? ", BNNI fill" : ""}: ${times[4].toFixed(1)} ms (median of 9)`);
    }
  }
}
