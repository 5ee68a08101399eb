// The points editor's controller: it turns the view's gestures into EditorState commands (the state keeps
// the undo history, a gesture is one begin() ... end() step), loads the images the canvas shows, computes
// the warp preview and the checks of the points, and hands the document to the node binding, which owns
// the widget and the node's properties.

import { clampToImage, fitCamera, hitTest, insideImage, panBy, toCanvas, toImage, zoomAt } from "../lib/geometry.js";
import { OUTSIDE_CIRCLE, checkPoints } from "../lib/checks.js";
import { ERASED, PAINTED, composite, hasEdits } from "../lib/mask.js";
import { EditorState, documentText, storedPoint } from "../lib/state.js";
import { circleInImage, latentCircle, warpPreview } from "../lib/warp_preview.js";
import { BRUSH_SIZES, EditorView } from "./view.js";

const MODES = ["points", "paint", "erase"];
const DEFAULT_BRUSH = 16;
const CLICK_SLOP = 3; // canvas px a pointer may travel while pressed and still make a click

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

function pixelsOf(img) {
  const c = document.createElement("canvas");
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height);
}

const sizeText = (width, height) => `${width}×${height}`;

/**
 * Points and the document are in image pixels of the image shown (x right, y down from its top-left
 * corner), which is always the image the node receives; while that image is not known no image shows
 * and no point can be placed (see awaitImage).
 *
 * `binding`: {read() -> the widget's text, write(text) (the document changed on the canvas),
 * warpOptions() -> {warp, aggregation, mask} of the FastDragWarp the points feed (warp: whether there is
 * one; mask: "editor" when its mask is this editor's MASK output, "none" without a mask, "other" when it
 * comes from another node), settings() -> {mode, brush} as kept in the node, keepSettings({mode, brush}),
 * fetchImage() (the "Fetch image" button of awaitImage's notice: get the image the node will receive and
 * setImage it), useResult(index) (a "Use output" button: make result `index` the next source)}.
 */
export class PointsEditor {
  constructor(binding) {
    this.binding = binding;
    this.preview = false;
    this.fill = false;
    this.json = false;
    this.image = null; // {img, pixels: ImageData, url}
    this.awaiting = null; // {text, label?, action?}: why no image shows (awaitImage), until the next one arrives
    this.baseMask = null; // the connected MASK as sent back after a run (Uint8Array), if any
    this.state = null;
    this.pendingPairs = [];
    this.drag = null;
    this.hover = null; // the canvas point under the pointer, while it is over the canvas
    this.camera = null; // the canvas's zoom and pan (geometry.js); null = the fitted image
    this.cameraSize = null; // the document size the camera was set for
    this.error = null; // a document or image that could not be read
    this.kept = null; // {text, step, rescaled, cleared}: a new image kept the document (rescaled, or as it was) or cleared it (a result used); step: the undo snapshot it showed at
    this.results = 0; // how many results of the points' last run can become the next source ("Use output N")
    this.loads = { image: 0, mask: 0 }; // a newer load makes an older one's result stale
    this.version = 0; // of the document, for the preview cache
    this.maskVersion = 0; // of the shown mask, for the overlay, mask and circle caches
    this.previewCache = null;
    this.maskCache = null;
    this.circleCache = null;
    this.previewInfo = "";
    this.view = new EditorView(this._handlers(), () => this._scene());
    this.element = this.view.element;
    this.canvas = this.view.canvas;
    this.keys = this.view.keys;
    this.status = this.view.status;
    this.applySettings();
    this.readDocument();
  }

  _handlers() {
    return {
      down: (e, at) => this._down(e, at),
      move: (e, at) => this._move(e, at),
      up: (e) => this._up(e),
      leave: () => this._leave(),
      wheel: (e, at) => this._wheel(e, at),
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
      brush: () => this.setBrush(Number(this.view.brushSize.value)),
      undo: () => this.undo(),
      redo: () => this.redo(),
      rescale: () => this.image && this._rescaleTo(this.image.img.naturalWidth, this.image.img.naturalHeight),
      fetch: () => this.binding.fetchImage(),
      "clear-points": () => this.change(() => this.state.clearPoints()),
      "clear-mask": () => this.change(() => this.state.clearMask()),
      "clear-all": () => this.change(() => this.state.clearAll()),
      fit: () => this.fit(),
      preview: () => this._toggle("preview"),
      fill: () => this._toggle("fill"),
      json: () => {
        this._toggle("json");
        this._showText();
      },
    };
    if (name.startsWith("use-result-")) this.binding.useResult(Number(name.slice("use-result-".length)));
    else actions[name]?.();
  }

  _toggle(flag) {
    this[flag] = !this[flag];
    this._showToggles();
    this.view.requestDraw();
  }

  _showToggles() {
    this.view.showToggles({ mode: this.mode, preview: this.preview, fill: this.fill, json: this.json, brush: this.brush });
  }

  /** Take the mode and brush size kept in the node (a loaded workflow, a graph undo). */
  applySettings() {
    const { mode, brush } = this.binding.settings();
    this.mode = MODES.includes(mode) ? mode : "points";
    this.brush = Number.isFinite(brush) ? Math.min(Math.max(Math.round(brush), BRUSH_SIZES.min), BRUSH_SIZES.max) : DEFAULT_BRUSH;
    this._showToggles();
    this.view.requestDraw();
  }

  setMode(mode) {
    this.mode = mode;
    this._keepSettings();
  }

  /** The brush diameter, in image pixels. */
  setBrush(size) {
    this.brush = size;
    this._keepSettings();
  }

  _keepSettings() {
    this.binding.keepSettings({ mode: this.mode, brush: this.brush });
    this._showToggles();
    this.view.requestDraw();
  }

  /** Show `message` (an image that could not be loaded) in the status line until the next image arrives. */
  report(message) {
    this.error = message;
    this.view.requestDraw();
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
      this.error = null;
    } catch (error) {
      this.state = null;
      this.error = `points JSON: ${error.message}`;
    }
    const img = this.image?.img;
    if (img && this.state && (this.state.width !== img.naturalWidth || this.state.height !== img.naturalHeight)) {
      this._rescaleTo(img.naturalWidth, img.naturalHeight);
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
    const size = this.state && sizeText(this.state.width, this.state.height);
    if (size !== this.cameraSize) this.camera = null; // another image size: show it whole
    this.cameraSize = size;
    this._showText();
    this.view.requestDraw();
  }

  undo() {
    if (this.state?.undo()) this._commit();
  }

  redo() {
    if (this.state?.redo()) this._commit();
  }

  /** Rescale the document to the image's size as one undoable step, and say so with an Undo button. */
  _rescaleTo(width, height) {
    const from = sizeText(this.state.width, this.state.height);
    this.state.rescale(width, height);
    this.kept = { text: `points rescaled from ${from} to ${sizeText(width, height)}`, step: this.state.undoStack.at(-1), rescaled: true };
    this.baseMask = null; // the connected mask is of the old image
    this._commit();
  }

  /** What the document holds, for the messages that say what is kept: "2 pairs and the painted mask",
   * or "" when it holds nothing. */
  _holdings() {
    const pairs = this.state ? this.state.pairs.length : this.pendingPairs.length;
    const painted = Boolean(this.state?.edits.some((v) => v));
    return [pairs ? `${pairs} pair${pairs === 1 ? "" : "s"}` : null, painted ? "the painted mask" : null].filter(Boolean).join(" and ");
  }

  /** A new image of the document's size: say that the points and the mask were kept, with a button to clear them. */
  _keptFor() {
    const what = this._holdings();
    if (what) this.kept = { text: `new image: ${what} kept`, step: this.state.undoStack.at(-1), rescaled: false };
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
      this.error = null;
    } catch (error) {
      this.error = `points JSON: ${error.message}`;
    }
    this.view.requestDraw();
  }

  // ---- images ------------------------------------------------------------------------------------

  /** Show the image at `url` (the one the node receives). `fresh`: another picture than before (a new
   * file picked upstream), whose points and mask the user may want to start afresh. `scale` {key, size}:
   * the node receives the file scaled (by a Scale Image for Drag): size(width, height) gives the size it
   * receives, and the file is shown resampled to it; key names the scaling, so that another one loads anew.
   * `result`: the picture is result N of the last run, now the source: start afresh on it, as the official
   * demo does ("Use output"): points and mask cleared, one undo step, said in the notice. */
  async setImage(url, { fresh = false, scale = null, result = null } = {}) {
    const shown = scale ? `${url}#${scale.key}` : url;
    if (this.image?.url === shown) return;
    const ticket = ++this.loads.image;
    let img = await loadImage(url);
    const size = scale?.size(img.naturalWidth, img.naturalHeight);
    if (size && (size[0] !== img.naturalWidth || size[1] !== img.naturalHeight)) img = await resampled(img, size);
    if (ticket !== this.loads.image) return; // a newer image was asked for meanwhile
    this.image = { img, url: shown, pixels: pixelsOf(img) };
    this.error = null;
    this.awaiting = null;
    const [w, h] = [img.naturalWidth, img.naturalHeight];
    if (!this.state) {
      this.state = new EditorState(w, h);
      for (const p of this.pendingPairs) this.state.pairs.push({ handle: p.handle, target: p.target || null });
      this._commit();
    } else if (result) {
      if (this.state.width !== w || this.state.height !== h) this.state.rescale(w, h);
      this.state.clearAll();
      this.results = 0;
      this.baseMask = null;
      this.kept = { text: `result ${result} is the new source: points and mask cleared`, step: this.state.undoStack.at(-1), cleared: true };
      this._commit();
    } else if (this.state.width !== w || this.state.height !== h) {
      this._rescaleTo(w, h);
    } else if (fresh) {
      this._keptFor();
    }
    this._changed(true);
  }

  /** After a run: `count` results that the points led to (a downstream SaveImage's or PreviewImage's
   * images), offered as "Use output 1 … N" (the binding makes one the next source). */
  offerResults(count) {
    this.results = count;
    this.view.requestDraw();
  }

  /** Show no image, and so take no points, until the next setImage: the shown one is not (or no longer
   * known to be) the image the node receives. `notice` {text, label?, action?} says why on the canvas and
   * in the status line, with a button when it has a label (label: its text; action: see _action). */
  awaitImage(notice) {
    this.loads.image++; // an image still loading is stale too
    this.image = null;
    this.awaiting = notice;
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
    if (this.maskCache?.key !== this.maskVersion) {
      const mask = hasEdits(this.state.edits) ? composite(this.baseMask, this.state.edits) : this.baseMask;
      this.maskCache = { key: this.maskVersion, mask };
    }
    return this.maskCache.mask;
  }

  /** Whether the document is for another size than the image shown (after undoing a rescale). */
  _mismatch() {
    const img = this.image?.img;
    return Boolean(img && this.state && (img.naturalWidth !== this.state.width || img.naturalHeight !== this.state.height));
  }

  // ---- checks and the status line ----------------------------------------------------------------

  /** The circle of the FastDragWarp the points feed, as checkPoints takes it (undefined when unknown). */
  _circle(warp, mask) {
    if (!warp.warp || warp.mask === "other") return undefined;
    const key = `${this.maskVersion}|${warp.mask}`;
    if (this.circleCache?.key !== key) {
      this.circleCache = { key, circle: latentCircle(warp.mask === "editor" ? mask : null, this.state.width, this.state.height) };
    }
    return this.circleCache.circle;
  }

  /** The notice beside the status: the document is for another image size (and can be rescaled), or a
   * new image kept it, rescaled (Undo) or as it was, either way with Clear points (until the next change). */
  _notice() {
    if (this._mismatch()) {
      const { naturalWidth, naturalHeight } = this.image.img;
      const text = `the points are for ${sizeText(this.state.width, this.state.height)}, the image is ${sizeText(naturalWidth, naturalHeight)}`;
      return { text, buttons: [{ label: "Rescale", action: "rescale" }] };
    }
    if (this.kept && this.state.undoStack.at(-1) === this.kept.step) {
      const clear = { label: this.state.edits.some((v) => v) ? "Clear points and mask" : "Clear points", action: "clear-all" };
      const undo = { label: "Undo", action: "undo" };
      return { text: this.kept.text, buttons: this.kept.cleared ? [undo] : this.kept.rescaled ? [undo, clear] : [clear] };
    }
    this.kept = null;
    if (this.results) {
      const buttons = Array.from({ length: this.results }, (_, i) => ({ label: String(i + 1), action: `use-result-${i}` }));
      return { text: "use output", buttons };
    }
    return null;
  }

  // ---- drawing -----------------------------------------------------------------------------------

  /** The image's placement on the canvas (image pixels -> canvas layout pixels). */
  placement() {
    return this.view.placement(this.state.width, this.state.height, this.camera);
  }

  /** The page (client) point where image point [x, y] shows, e.g. to aim a pointer at a pixel. */
  clientPoint(point) {
    return this.view.toClient(toCanvas(this.placement(), point));
  }

  /** While no image shows: what the document holds, so that points kept for an image still to come do not
   * look lost (a reloaded workflow whose image comes from other nodes). */
  _storedText() {
    const what = this._holdings();
    if (!what) return "";
    const image = this.state ? ` on the ${sizeText(this.state.width, this.state.height)} image` : "";
    return `${what}${image}: ${this.awaiting?.action === "fetch" ? "fetch the image to see them" : "they show with the image"}`;
  }

  _scene() {
    if (!this.state || !this.image) {
      this.view.showStatus(this.error ?? this._storedText(), Boolean(this.error), this.awaiting);
      return { image: null, message: this.awaiting?.text ?? "Connect an image (LoadImage) or run the graph to show it here." };
    }
    const mask = this.shownMask();
    const warp = this.binding.warpOptions();
    const mismatch = this._mismatch();
    const pairs = this.state.storedPairs(); // as the node gets them
    const circle = this._circle(warp, mask);
    const check = checkPoints(pairs, this.state.width, this.state.height, { region: mask, circle });
    const image = this.preview && !mismatch ? this._previewImage(pairs, mask, warp) : this.image.img;
    const parts = [this.error, check.line, this.preview ? (mismatch ? "preview off: the image has another size" : this.previewInfo) : null];
    const text = [parts.filter(Boolean).join(" · "), ...check.details].join("\n"); // every warning in full, one a line
    this.view.showStatus(text, Boolean(this.error || check.warnings.length), this._notice());
    const view = this.placement();
    return {
      image,
      width: this.state.width,
      height: this.state.height,
      camera: this.camera,
      smooth: !this.camera || view.scale < 2, // zoomed in, each image pixel shows as a square
      overlay: mask ? { key: this.maskVersion, mask } : null,
      pairs: this.state.pairs,
      warned: new Set(check.warnings.map((w) => w.pair)),
      // FastDragWarp's circle, shown while a handle lies outside it: where the handle must go.
      circle: check.warnings.some((w) => w.reason === OUTSIDE_CIRCLE) ? circleInImage(circle, this.state.width, this.state.height) : null,
      brush: this.mode !== "points" && this.hover && this.drag?.kind !== "pan" ? { at: this.hover, radius: (this.brush / 2) * view.scale } : null,
    };
  }

  /** FastDragWarp's relocation drawn on the image, for the document as the node gets it (`pairs`, rounded
   * as stored) with the options of the FastDragWarp the points feed (`warp`, see the constructor). */
  _previewImage(pairs, mask, { aggregation, mask: source }) {
    const masked = source !== "none"; // without a mask input FastDragWarp moves the whole image
    const key = `${this.version}|${this.maskVersion}|${aggregation}|${masked}|${this.fill}`;
    if (this.previewCache?.key !== key) {
      const { data, width, height } = this.image.pixels;
      const start = performance.now();
      const result = warpPreview(data, width, height, pairs, masked ? mask : null, { aggregation, fill: this.fill });
      const c = document.createElement("canvas");
      c.width = width;
      c.height = height;
      c.getContext("2d").putImageData(new ImageData(result.pixels, width, height), 0, 0);
      this.previewCache = { key, canvas: c, result };
      this.previewInfo = result.error ? `preview: ${result.error}` : `preview: ${(performance.now() - start).toFixed(0)} ms`;
    }
    return this.previewCache.canvas;
  }

  /** The image pixel under the pointer and the canvas's zoom, beside the status. */
  _showReadout() {
    const view = this.state && this.placement();
    const point = this.hover && view ? toImage(view, this.hover) : null;
    // The pixel of the point a click here stores (rounded to the document's 0.01 px), not of the exact pointer.
    const stored = point && insideImage(view, point) ? storedPoint(clampToImage(view, point)) : null;
    const parts = [stored ? `x ${Math.floor(stored[0])}, y ${Math.floor(stored[1])}` : "", this.camera ? `${Math.round(this.camera.zoom * 100)}%` : ""];
    this.view.readout.textContent = parts.filter(Boolean).join(" · ");
  }

  // ---- gestures ----------------------------------------------------------------------------------

  _down(e, at) {
    if (!this.state || !this.image) return;
    e.preventDefault();
    e.stopPropagation();
    if (e.button === 1) {
      this.drag = { kind: "pan", last: at };
      return;
    }
    const view = this.placement();
    const image = toImage(view, at);
    if (this.mode === "points") {
      const hit = hitTest(view, this.state.pairs, at, this.view.markRadius(this.state.width, this.state.height));
      if (e.button === 2) {
        if (hit) this.change(() => this.state.deletePair(hit.pair));
        return;
      }
      if (hit) {
        this.state.begin();
        this.drag = { kind: "marker", ...hit, start: at, image, moved: false };
      } else if (insideImage(view, image)) {
        this.change(() => this.state.addPoint(image));
      }
      return;
    }
    if (e.button !== 0) return;
    this.state.begin();
    this.drag = { kind: "brush", last: image, value: this.mode === "paint" ? PAINTED : ERASED };
    this.state.stroke(image, image, this.brush / 2, this.drag.value);
    this._changed(true);
  }

  _move(e, at) {
    this.hover = at;
    if (this.drag) e.stopPropagation();
    if (this.drag?.kind === "pan") {
      this.camera = panBy(this.camera ?? fitCamera(this.state.width, this.state.height), this.placement(), [at[0] - this.drag.last[0], at[1] - this.drag.last[1]]);
      this.drag.last = at;
    } else if (this.drag?.kind === "marker") {
      // A marker moves once the pointer leaves the click's slop, so that a click on it stays a click.
      this.drag.moved ||= Math.hypot(at[0] - this.drag.start[0], at[1] - this.drag.start[1]) > CLICK_SLOP;
      if (this.drag.moved) {
        this.state.movePoint(this.drag.pair, this.drag.which, toImage(this.placement(), at));
        this._changed(false);
      }
    } else if (this.drag) {
      const image = toImage(this.placement(), at);
      this.state.stroke(this.drag.last, image, this.brush / 2, this.drag.value);
      this.drag.last = image;
      this._changed(true);
    }
    this._showReadout();
    if (this.drag || this.mode !== "points") this.view.requestDraw();
  }

  _up(e) {
    if (!this.drag) return;
    e.stopPropagation();
    const { kind, moved, image } = this.drag;
    this.drag = null;
    if (kind === "pan") {
      this.view.requestDraw();
      return;
    }
    this.state.end();
    // A click on a marker that dragged nothing, while a handle waits for its target, places that target
    // there: a short drag is placed by clicking next to its own handle.
    if (kind === "marker" && !moved && this.state.pending && insideImage(this.placement(), image)) this.state.addPoint(image);
    this._commit();
  }

  _leave() {
    this.hover = null;
    this._showReadout();
    this.view.requestDraw();
  }

  /** The wheel zooms about the pointer (the image pixel under it stays under it). */
  _wheel(e, at) {
    if (!this.state || !this.image) return;
    e.preventDefault();
    e.stopPropagation();
    const lines = e.deltaMode === 1 ? 16 : 1; // Firefox reports lines
    const camera = zoomAt(this.camera ?? fitCamera(this.state.width, this.state.height), this.placement(), ...this.view.size, at, Math.exp(-e.deltaY * lines * 0.002));
    this.camera = camera.zoom === 1 ? null : camera;
    this.hover = at;
    this._showReadout();
    this.view.requestDraw();
  }

  _key(e) {
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === "z") this[e.shiftKey ? "redo" : "undo"]();
    else if ((e.ctrlKey || e.metaKey) && key === "y") this.redo();
    else if (key === "delete" || key === "backspace") this.change(() => this.state.deletePair(this.state.pairs.length - 1));
    else if (key === "0") this.fit();
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  /** Show the whole image again (after zooming the canvas). */
  fit() {
    this.camera = null;
    this._showReadout();
    this.view.requestDraw();
  }

  destroy() {
    this.view.destroy();
    this.loads.image++;
    this.loads.mask++;
  }
}
