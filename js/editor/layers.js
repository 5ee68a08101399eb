// What the points editor derives from its document and its image, kept until either changes: the mask the
// node outputs, the circle FastDragWarp needs around it, and FastDragWarp's relocation drawn on the image.

import { composite, hasEdits } from "../lib/mask.js";
import { latentCircle, warpPreview } from "../lib/warp_preview.js";

/** `doc`: the EditorDocument; `source`: the ImageSource. Call changed() after every change of either. */
export class DerivedLayers {
  constructor(doc, source) {
    this.doc = doc;
    this.source = source;
    this.version = 0; // of the document, for the preview
    this.maskVersion = 0; // of the shown mask, for the overlay, the mask and the circle
    this.maskCache = null; // {key, mask}
    this.circleCache = null; // {key, circle}
    this.previewCache = null; // {key, canvas, result, info}
  }

  /** After a change of the document (`mask`: of the mask too) or of the image shown. */
  changed(mask) {
    this.version++;
    if (mask) this.maskVersion++;
  }

  /** The mask the node outputs, as shown (Uint8Array of the document's width x height, 1 = may change):
   * the connected mask with the painting applied; null when nothing limits the edit (the whole image). */
  mask() {
    const { state } = this.doc;
    if (!state) return null;
    if (this.maskCache?.key !== this.maskVersion) {
      const base = this.source.baseMask;
      this.maskCache = { key: this.maskVersion, mask: hasEdits(state.edits) ? composite(base, state.edits) : base };
    }
    return this.maskCache.mask;
  }

  /** The circle of the FastDragWarp the points feed (`warp`: its options, see PointsEditor), as checkPoints
   * takes it: undefined when unknown (no FastDragWarp, or its mask comes from another node). */
  circle(warp) {
    if (!warp.warp || warp.mask === "other") return undefined;
    const key = `${this.maskVersion}|${warp.mask}`;
    if (this.circleCache?.key !== key) {
      const { width, height } = this.doc.state;
      this.circleCache = { key, circle: latentCircle(warp.mask === "editor" ? this.mask() : null, width, height) };
    }
    return this.circleCache.circle;
  }

  /** FastDragWarp's relocation drawn on the image, {canvas, result (warpPreview's), info (the status
   * line's words on it)}, for the document as the node gets it (rounded as stored) with the options of the
   * FastDragWarp the points feed (`warp`); `fill`: BNNI's fill of the holes shown. */
  preview({ aggregation, mask: source }, fill) {
    const masked = source !== "none"; // without a mask input FastDragWarp moves the whole image
    const key = `${this.version}|${this.maskVersion}|${aggregation}|${masked}|${fill}`;
    if (this.previewCache?.key !== key) {
      const { data, width, height } = this.source.image.pixels;
      const start = performance.now();
      const result = warpPreview(data, width, height, this.doc.state.storedPairs(), masked ? this.mask() : null, { aggregation, fill });
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").putImageData(new ImageData(result.pixels, width, height), 0, 0);
      const info = result.error ? `preview: ${result.error}` : `preview: ${(performance.now() - start).toFixed(0)} ms`;
      this.previewCache = { key, canvas, result, info };
    }
    return this.previewCache;
  }
}
