// The points editor's controller: it turns the view's gestures into EditorState commands (the state keeps
// the undo history, a gesture is one begin() ... end() step), loads the images the canvas shows, computes
// the warp preview, and hands the document to the node binding, which owns the widget.

import { hitTest, insideImage, toImage } from "../lib/geometry.js";
import { ERASED, PAINTED, composite, hasEdits } from "../lib/mask.js";
import { EditorState, documentText } from "../lib/state.js";
import { warpPreview } from "../lib/warp_preview.js";
import { EditorView, MARKER_RADIUS } from "./view.js";

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`cannot load ${url}`));
    img.src = url;
  });
}

function pixelsOf(img) {
  const c = document.createElement("canvas");
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height);
}

/**
 * `binding`: {read() -> the widget's text, write(text) (the document changed on the canvas),
 * warpOptions() -> {aggregation, masked} of the FastDragWarp the points feed (masked: whether its mask
 * comes from this editor)}.
 */
export class PointsEditor {
  constructor(binding) {
    this.binding = binding;
    this.mode = "points";
    this.brush = 16;
    this.preview = false;
    this.fill = false;
    this.json = false;
    this.image = null; // {img, pixels: ImageData, url}
    this.baseMask = null; // the connected MASK as sent back after a run (Uint8Array), if any
    this.state = null;
    this.pendingPairs = [];
    this.drag = null;
    this.loads = { image: 0, mask: 0 }; // a newer load makes an older one's result stale
    this.version = 0; // of the document, for the preview cache
    this.maskVersion = 0; // of the shown mask, for the overlay cache
    this.previewCache = null;
    this.view = new EditorView(this._handlers(), () => this._scene());
    this.view.brushSize.value = String(this.brush);
    this.element = this.view.element;
    this.canvas = this.view.canvas;
    this.keys = this.view.keys;
    this.status = this.view.status;
    this._showToggles();
    this.readDocument();
  }

  _handlers() {
    return {
      down: (e, at) => this._down(e, at),
      move: (e, at) => this._move(e, at),
      up: (e) => this._up(e),
      key: (e) => this._key(e),
      paste: (text) => this.applyText(text),
      applyText: (text) => this.applyText(text),
      action: (name) => this._action(name),
    };
  }

  _action(name) {
    const actions = {
      points: () => this.setMode("points"),
      paint: () => this.setMode("paint"),
      erase: () => this.setMode("erase"),
      brush: () => { this.brush = Number(this.view.brushSize.value); },
      undo: () => this.undo(),
      redo: () => this.redo(),
      "clear-points": () => this.change(() => this.state.clearPoints()),
      "clear-mask": () => this.change(() => this.state.clearMask()),
      preview: () => this._toggle("preview"),
      fill: () => this._toggle("fill"),
      json: () => {
        this._toggle("json");
        this._showText();
      },
    };
    actions[name]?.();
  }

  _toggle(flag) {
    this[flag] = !this[flag];
    this._showToggles();
    this.view.requestDraw();
  }

  _showToggles() {
    this.view.showToggles({ mode: this.mode, preview: this.preview, fill: this.fill, json: this.json });
  }

  setMode(mode) {
    this.mode = mode;
    this._showToggles();
  }

  // ---- the document ----------------------------------------------------------------------------

  /** Take the widget's text again if it changed other than through this canvas (a loaded workflow). */
  syncFromWidget() {
    if (this.binding.read() !== this.written) this.readDocument();
  }

  readDocument() {
    const text = this.binding.read();
    this.written = text;
    try {
      const doc = JSON.parse(text || "{}");
      this.state = doc.width && doc.height ? EditorState.fromJSON(doc) : null;
      this.pendingPairs = this.state ? [] : doc.pairs || [];
      this.status.textContent = "";
    } catch (error) {
      this.state = null;
      this.status.textContent = `points JSON: ${error.message}`;
    }
    const img = this.image?.img;
    if (img && this.state && (this.state.width !== img.naturalWidth || this.state.height !== img.naturalHeight)) {
      this.state = this.state.resized(img.naturalWidth, img.naturalHeight);
    }
    this._changed(true);
  }

  /** Apply `fn` to the document and hand it to the node (one command, one undo step inside `fn`). */
  change(fn) {
    if (!this.state) return;
    fn();
    this._commit();
  }

  _commit() {
    const text = JSON.stringify(this.state.toJSON());
    this.written = text;
    if (this.binding.read() !== text) this.binding.write(text);
    this._changed(true);
  }

  _changed(mask) {
    this.version++;
    if (mask) this.maskVersion++;
    this._showText();
    this.view.requestDraw();
  }

  undo() {
    if (this.state?.undo()) this._commit();
  }

  redo() {
    if (this.state?.redo()) this._commit();
  }

  _showText() {
    if (!this.view.jsonIdle) return;
    const text = this.binding.read();
    try {
      const doc = JSON.parse(text);
      this.view.jsonView.value = doc && typeof doc === "object" && !Array.isArray(doc) ? documentText(doc) : text;
    } catch {
      this.view.jsonView.value = text; // shown as typed, so it can be fixed
    }
  }

  /** Apply a typed or pasted document (or another pack's point list) as one undoable step. */
  applyText(text) {
    if (!text.trim()) return;
    try {
      if (this.state) {
        this.change(() => this.state.replaceWith(text));
      } else {
        JSON.parse(text); // no image yet: keep the document for when it arrives
        this.binding.write(text);
        this.readDocument();
      }
      this.status.textContent = "";
    } catch (error) {
      this.status.textContent = `points JSON: ${error.message}`;
    }
  }

  // ---- images ------------------------------------------------------------------------------------

  async setImage(url) {
    if (this.image?.url === url) return;
    const ticket = ++this.loads.image;
    const img = await loadImage(url);
    if (ticket !== this.loads.image) return; // a newer image was asked for meanwhile
    this.image = { img, url, pixels: pixelsOf(img) };
    const [w, h] = [img.naturalWidth, img.naturalHeight];
    if (!this.state) {
      this.state = new EditorState(w, h);
      for (const p of this.pendingPairs) this.state.pairs.push({ handle: p.handle, target: p.target || null });
      this._commit();
    } else if (this.state.width !== w || this.state.height !== h) {
      this.state = this.state.resized(w, h);
      this.baseMask = null;
      this._commit();
    }
    this._changed(true);
  }

  async setBaseMask(url) {
    const ticket = ++this.loads.mask;
    const img = url ? await loadImage(url) : null;
    if (ticket !== this.loads.mask) return;
    if (!img) {
      this.baseMask = null;
    } else {
      const { data, width, height } = pixelsOf(img);
      if (!this.state || width !== this.state.width || height !== this.state.height) return;
      this.baseMask = new Uint8Array(width * height);
      for (let i = 0; i < this.baseMask.length; i++) this.baseMask[i] = data[4 * i] > 127 ? 1 : 0;
    }
    this._changed(true);
  }

  /** The mask the node outputs, as shown: null when nothing limits the edit (the whole image). */
  shownMask() {
    if (!this.state) return null;
    if (!hasEdits(this.state.edits)) return this.baseMask;
    return composite(this.baseMask, this.state.edits);
  }

  // ---- drawing -----------------------------------------------------------------------------------

  /** The image's placement on the canvas (image pixels -> canvas CSS pixels). */
  placement() {
    return this.view.placement(this.state.width, this.state.height);
  }

  _scene() {
    if (!this.state || !this.image) return { image: null, message: "Connect an image (LoadImage) or run the graph to show it here." };
    const mask = this.shownMask();
    return {
      image: this.preview ? this._previewImage(mask) : this.image.img,
      width: this.state.width,
      height: this.state.height,
      overlay: mask ? { key: this.maskVersion, mask } : null,
      pairs: this.state.pairs,
    };
  }

  /** FastDragWarp's relocation drawn on the image, for the document as the node gets it (coordinates
   * rounded as stored) with the options of the FastDragWarp the points feed. */
  _previewImage(mask) {
    const { aggregation, masked } = this.binding.warpOptions();
    const key = `${this.version}|${this.maskVersion}|${aggregation}|${masked}|${this.fill}`;
    if (this.previewCache?.key !== key) {
      const { data, width, height } = this.image.pixels;
      const start = performance.now();
      const result = warpPreview(data, width, height, this.state.toJSON().pairs, masked ? mask : null, { aggregation, fill: this.fill });
      const c = document.createElement("canvas");
      c.width = width;
      c.height = height;
      c.getContext("2d").putImageData(new ImageData(result.pixels, width, height), 0, 0);
      this.previewCache = { key, canvas: c, result };
      this.status.textContent = result.error
        ? `preview: ${result.error}; FastDragWarp will refuse these points`
        : `preview: ${(performance.now() - start).toFixed(0)} ms`;
    }
    return this.previewCache.canvas;
  }

  // ---- gestures ----------------------------------------------------------------------------------

  _down(e, at) {
    if (!this.state) return;
    e.preventDefault();
    e.stopPropagation();
    const view = this.placement();
    const image = toImage(view, at);
    if (this.mode === "points") {
      const hit = hitTest(view, this.state.pairs, at, MARKER_RADIUS + 3);
      if (e.button === 2) {
        if (hit) this.change(() => this.state.deletePair(hit.pair));
        return;
      }
      if (hit) {
        this.state.begin();
        this.drag = { kind: "marker", ...hit };
      } else if (insideImage(view, image)) {
        this.change(() => this.state.addPoint(image));
      }
      return;
    }
    this.state.begin();
    this.drag = { kind: "brush", last: image, value: this.mode === "paint" ? PAINTED : ERASED };
    this.state.stroke(image, image, this.brush / 2, this.drag.value);
    this._changed(true);
  }

  _move(e, at) {
    if (!this.drag) return;
    e.stopPropagation();
    const image = toImage(this.placement(), at);
    if (this.drag.kind === "marker") {
      this.state.movePoint(this.drag.pair, this.drag.which, image);
      this._changed(false);
    } else {
      this.state.stroke(this.drag.last, image, this.brush / 2, this.drag.value);
      this.drag.last = image;
      this._changed(true);
    }
  }

  _up(e) {
    if (!this.drag) return;
    e.stopPropagation();
    this.drag = null;
    this.state.end();
    this._commit();
  }

  _key(e) {
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === "z") this[e.shiftKey ? "redo" : "undo"]();
    else if ((e.ctrlKey || e.metaKey) && key === "y") this.redo();
    else if (key === "delete" || key === "backspace") this.change(() => this.state.deletePair(this.state.pairs.length - 1));
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  destroy() {
    this.view.destroy();
    this.loads.image++;
    this.loads.mask++;
  }
}
