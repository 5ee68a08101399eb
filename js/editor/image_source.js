// The image the points editor shows: loaded from a URL (resampled to the size the node receives when a
// Scale Image for Drag sits between), with its pixels for the warp preview, and the connected mask as sent
// back after a run. A newer load makes an older one's result stale, so images that arrive out of order
// never show.

import { maskFromImage } from "../lib/mask.js";

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`cannot load ${url}`));
    img.src = url;
  });
}

/** `img` resampled to `width` x `height` (the browser's best filter), as an image element. */
async function resampled(img, [width, height]) {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  const ctx = c.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(img, 0, 0, width, height);
  const url = URL.createObjectURL(await new Promise((resolve) => c.toBlob(resolve)));
  try {
    return await loadImage(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The RGBA pixels of `img` (ImageData, raster order). */
function pixelsOf(img) {
  const c = document.createElement("canvas");
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height);
}

export class ImageSource {
  constructor() {
    this.image = null; // {img, pixels: ImageData, url}: the image shown, always the one the node receives
    this.awaiting = null; // {text, label?, action?}: why no image shows, until the next one arrives
    this.baseMask = null; // the connected MASK as sent back after a run (Uint8Array, 1 = may change), if any
    this.loads = { image: 0, mask: 0 }; // tickets: a newer load makes an older one's result stale
  }

  /** The shown image's [width, height], or null. */
  get size() {
    return this.image ? [this.image.img.naturalWidth, this.image.img.naturalHeight] : null;
  }

  /** Load the image at `url`; `scale` {key, size(width, height) -> [width, height]}: the node receives the
   * file scaled, and it shows resampled to that size (key names the scaling, so that another one loads
   * anew). Returns whether it now shows: false when it already did, or a newer load or awaitImage came
   * meanwhile. Throws when the image cannot be loaded. */
  async load(url, scale = null) {
    const shown = scale ? `${url}#${scale.key}` : url;
    if (this.image?.url === shown) return false;
    const ticket = ++this.loads.image;
    let img = await loadImage(url);
    const size = scale?.size(img.naturalWidth, img.naturalHeight);
    if (size && (size[0] !== img.naturalWidth || size[1] !== img.naturalHeight)) img = await resampled(img, size);
    if (ticket !== this.loads.image) return false;
    this.image = { img, url: shown, pixels: pixelsOf(img) };
    this.awaiting = null;
    return true;
  }

  /** Show no image until the next load: the shown one is not (or no longer known to be) the node's.
   * `notice` {text, label?, action?}: why. */
  awaitImage(notice) {
    this.loads.image++; // an image still loading is stale too
    this.image = null;
    this.awaiting = notice;
  }

  /** Load the connected mask from `url` (a mask image), or drop it (`url` null). `size` () -> [width,
   * height] of the document when the mask has arrived, or null: a mask of another size is not taken.
   * Returns whether the shown mask changed. */
  async loadMask(url, size) {
    const ticket = ++this.loads.mask;
    const img = url ? await loadImage(url) : null;
    if (ticket !== this.loads.mask) return false;
    if (!img) {
      this.baseMask = null;
      return true;
    }
    const { data, width, height } = pixelsOf(img);
    const [w, h] = size() ?? [];
    if (width !== w || height !== h) return false;
    this.baseMask = maskFromImage(data);
    return true;
  }

  destroy() {
    this.loads.image++;
    this.loads.mask++;
  }
}
