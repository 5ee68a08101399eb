// Time of the points editor's warp preview (js/lib/warp_preview.js) on 512x512 and 1024x1024 images.
// Run: node js/bench/warp_preview.bench.mjs
import { warpPreview } from "../lib/warp_preview.js";

for (const size of [512, 1024]) {
  const pixels = new Uint8ClampedArray(size * size * 4).map((_, i) => i % 251);
  for (const count of [1, 3, 6]) {
    const pairs = Array.from({ length: count }, (_, i) => ({
      handle: [size * (0.3 + 0.08 * i), size * 0.4],
      target: [size * (0.35 + 0.08 * i), size * 0.45],
    }));
    warpPreview(pixels, size, size, pairs, null);
    const times = [];
    for (let r = 0; r < 5; r++) {
      const start = performance.now();
      warpPreview(pixels, size, size, pairs, null);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    console.log(`${size}x${size}, ${count} drag(s): ${times[2].toFixed(1)} ms (median of 5)`);
  }
}
