// The points editor of one DragPointsEditor node. It puts together the document bound to the node's
// widget (document.js), the image shown (image_source.js), the gestures (gestures.js) and the view
// (view.js), runs the toolbar's actions, and once per animation frame at most hands the view what to show:
// a plain value computed from all of them (js/lib/scene.js), which the view draws without calling back.

import { toCanvas } from "../lib/geometry.js";
import { editorScene, keptStands, sizeMismatch } from "../lib/scene.js";
import { shownText } from "../lib/state.js";
import { MODES, toolOf } from "../lib/tool.js";
import { EditorDocument } from "./document.js";
import { Gestures } from "./gestures.js";
import { ImageSource } from "./image_source.js";
import { DerivedLayers } from "./layers.js";
import { EditorView } from "./view.js";

/**
 * Points and the document are in image pixels of the image shown, which is always the image the node
 * receives; while that image is not known no image shows and no point can be placed (see awaitImage).
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
    this.toggles = { preview: false, fill: false, json: false };
    this.error = null; // a document or image that could not be read
    this.results = 0; // how many results of the points' last run can become the next source ("Use output N")
    this.frame = 0;
    this.source = new ImageSource();
    this.gestures = new Gestures(this);
    this.doc = new EditorDocument(binding, { changed: (mask) => this.changed(mask), rescaled: () => { this.source.baseMask = null; } });
    this.layers = new DerivedLayers(this.doc, this.source);
    this.view = new EditorView(this.gestures, { applyText: (text) => this.applyText(text), action: (name) => this._action(name) });
    ({ element: this.element, canvas: this.canvas, keys: this.keys, status: this.status } = this.view);
    this.applySettings();
    this.error = this.doc.read(null);
  }

  // What the editor holds, as the browser tests read it.
  get state() { return this.doc.state; }
  get image() { return this.source.image; }
  get baseMask() { return this.source.baseMask; }
  get camera() { return this.gestures.camera; }
  get previewCache() { return this.layers.previewCache; }
  get mode() { return this.tool.mode; }
  get brush() { return this.tool.brush; }

  /** A button of the toolbar or of the notice: `name` is its action. */
  _action(name) {
    const doc = this.doc;
    const actions = {
      brush: () => this.setBrush(Number(this.view.brushSize.value)),
      undo: () => doc.undo(),
      redo: () => doc.redo(),
      rescale: () => doc.state && this.source.size && doc.rescaleTo(...this.source.size),
      fetch: () => this.binding.fetchImage(),
      "clear-points": () => doc.change(() => doc.state.clearPoints()),
      "clear-mask": () => doc.change(() => doc.state.clearMask()),
      "clear-all": () => doc.change(() => doc.state.clearAll()),
      fit: () => this.gestures.fit(),
    };
    if (MODES.includes(name)) this.setMode(name);
    else if (Object.hasOwn(this.toggles, name)) this._toggle(name);
    else if (name.startsWith("use-result-")) this.binding.useResult(Number(name.slice("use-result-".length)));
    else actions[name]?.();
  }

  _toggle(name) {
    this.toggles[name] = !this.toggles[name];
    this._showToggles();
    if (name === "json") this._showText();
    this.update();
  }

  _showToggles() {
    this.view.showToggles({ ...this.toggles, ...this.tool });
  }

  /** Take the mode and brush size kept in the node (a loaded workflow, a graph undo). */
  applySettings() {
    this.tool = toolOf(this.binding.settings());
    this._showToggles();
    this.update();
  }

  // The tool's mode ("points", "paint" or "erase") and its brush diameter (image pixels), kept in the node.
  setMode(mode) { this._keepTool({ ...this.tool, mode }); }
  setBrush(brush) { this._keepTool({ ...this.tool, brush }); }

  _keepTool(tool) {
    this.tool = tool;
    this.binding.keepSettings(tool);
    this._showToggles();
    this.update();
  }

  /** Show `message` (an image that could not be loaded) in the status line until the next image arrives. */
  report(message) {
    this.error = message;
    this.update();
  }

  /** Apply `fn` to the document (one command: fn makes its undo step) and hand it to the node. */
  change(fn) {
    this.doc.change(fn);
  }

  /** Take the widget's text again if it changed other than through this canvas (a loaded workflow). */
  syncFromWidget() {
    const error = this.doc.sync(this.source.size);
    if (error !== undefined) this.error = error;
  }

  /** Apply a typed or pasted document (or another pack's point list) as one undoable step. */
  applyText(text) {
    if (!text.trim()) return;
    try {
      this.error = this.doc.applyText(text, this.source.size);
    } catch (error) {
      this.error = `points JSON: ${error.message}`;
    }
    this.update();
  }

  /** After any change of the document (`mask`: of the mask too) or of the image shown. */
  changed(mask) {
    this.layers.changed(mask);
    this.gestures.followSize(this.doc.state);
    if (!keptStands(this.doc.kept, this.doc.state, this.source.size)) this.doc.kept = null;
    this._showText();
    this.update();
  }

  _showText() {
    if (this.view.jsonIdle) this.view.jsonView.value = shownText(this.binding.read());
  }

  /** Show the image at `url` (the one the node receives). `scale`: see ImageSource.load; `fresh`, `result`:
   * see EditorDocument.showImage (a result used also ends the offer of results and the connected mask). */
  async setImage(url, { fresh = false, scale = null, result = null } = {}) {
    if (!(await this.source.load(url, scale))) return;
    this.error = null;
    if (result) {
      this.results = 0;
      this.source.baseMask = null;
    }
    this.doc.showImage(...this.source.size, { fresh, result });
    this.changed(true);
  }

  /** After a run: `count` results that the points led to, offered as "Use output 1 … N". */
  offerResults(count) {
    this.results = count;
    this.update();
  }

  /** Show no image, and so take no points, until the next setImage. `notice` {text, label?, action?} says
   * why on the canvas and in the status line, with a button when it has a label (action: see _action). */
  awaitImage(notice) {
    this.source.awaitImage(notice);
    this.changed(true);
  }

  async setBaseMask(url) {
    const state = () => this.doc.state && [this.doc.state.width, this.doc.state.height];
    if (await this.source.loadMask(url, state)) this.changed(true);
  }

  /** The mask the node outputs, as shown (DerivedLayers.mask). */
  shownMask() {
    return this.layers.mask();
  }

  /** The image's placement on the canvas (image pixels -> canvas layout pixels). */
  placement() {
    const { state } = this.doc;
    return this.view.placement(state.width, state.height, this.gestures.camera);
  }

  /** The page (client) point where image point [x, y] shows, e.g. to aim a pointer at a pixel. */
  clientPoint(point) {
    return this.view.toClient(toCanvas(this.placement(), point));
  }

  /** Draw again at the next animation frame (once however often asked). */
  update() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.view.render(this.scene());
    });
  }

  /** What to show now (js/lib/scene.js editorScene). */
  scene() {
    const { state } = this.doc;
    const { image, size } = this.source;
    const input = {
      state, pending: this.doc.pending.length, awaiting: this.source.awaiting, error: this.error, kept: this.doc.kept, results: this.results,
      camera: this.gestures.camera, tool: { ...this.tool, hover: this.gestures.hover, panning: this.gestures.drag?.kind === "pan" },
    };
    if (!state || !image) return editorScene({ ...input, image: null });
    const warp = this.binding.warpOptions();
    const preview = this.toggles.preview && !sizeMismatch(state, size) ? this.layers.preview(warp, this.toggles.fill) : null;
    return editorScene({
      ...input, image: { source: image.img, width: size[0], height: size[1] }, mask: this.layers.mask(), maskKey: this.layers.maskVersion,
      circle: this.layers.circle(warp), preview: { asked: this.toggles.preview, image: preview?.canvas ?? null, info: preview?.info },
    });
  }

  destroy() {
    this.view.destroy();
    this.source.destroy();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
