// The DragPointsEditor node's canvas: place handle -> target pairs and paint the editable region on
// the image, with undo/redo and a FastDrag warp preview. The node's `points` widget holds the
// document (js/lib/state.js), so it is saved in the workflow and changing it re-runs the node; the
// widget itself is hidden wherever the canvas shows, and the document stays reachable as text through
// the canvas's JSON view and by pasting. Geometry, history, brush and preview live in js/lib (tested
// with `node --test js/tests`).

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { fitView, hitTest, insideImage, toCanvas, toImage } from "./lib/geometry.js";
import { ERASED, PAINTED, composite, hasEdits } from "./lib/mask.js";
import { EditorState, documentText } from "./lib/state.js";
import { warpPreview } from "./lib/warp_preview.js";

const NODE = "DragPointsEditor";
const MARKER_RADIUS = 7;
const HANDLE_COLOUR = "#e5484d";
const TARGET_COLOUR = "#3e9bff";
const HELP =
  "Points: click the content to move, then where it goes; drag a marker to move it; right click a marker to " +
  "delete its pair. Paint / Erase: brush the editable region. Ctrl+Z undo, Ctrl+Y redo, Delete removes the last pair, " +
  "Ctrl+V pastes points as JSON (JSON shows them as text).";

/** The /view URL of an image a LoadImage-like node names ("sub/name.png [input]"). */
function viewURL(value) {
  const match = /^(.*?)(?: \[(\w+)\])?$/.exec(value);
  const path = match[1];
  const slash = path.lastIndexOf("/");
  const params = new URLSearchParams({
    filename: path.slice(slash + 1),
    subfolder: slash >= 0 ? path.slice(0, slash) : "",
    type: match[2] || "input",
  });
  return api.apiURL(`/view?${params}`);
}

/** Whether this frontend's Vue node renderer shows DOM widgets such as the canvas (from 1.29.3 on; 1.27
 * shows only its own widget types there, so the points stay editable as text in that renderer). */
function vueRendererShowsCanvas() {
  const version = window.__COMFYUI_FRONTEND_VERSION__;
  if (typeof version !== "string") return true;
  const [major, minor, patch] = version.split(".").map((part) => parseInt(part, 10) || 0);
  return major > 1 || (major === 1 && (minor > 29 || (minor === 29 && patch >= 3)));
}

/** Hide the `points` text widget (its value is still saved and sent): `hidden` for the LiteGraph renderer
 * (and both renderers from 1.58), `options.hidden` for the Vue renderer before 1.58, and no height, since
 * the LiteGraph renderer of 1.27 still gives a hidden widget room. Set before the node joins the graph. */
function hideTextWidget(widget) {
  widget.hidden = true;
  widget.computeSize = () => [0, -4];
  widget.options ??= {};
  widget.options.hidden = vueRendererShowsCanvas();
}

function savedURL(item) {
  return api.apiURL(`/view?${new URLSearchParams({ filename: item.filename, subfolder: item.subfolder || "", type: item.type || "temp" })}`);
}

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

class PointsCanvas {
  constructor(node, widget) {
    this.node = node;
    this.widget = widget;
    this.mode = "points";
    this.brush = 16;
    this.preview = false;
    this.image = null; // {img, pixels: ImageData, url}
    this.baseMask = null; // the connected MASK as sent back after a run (Uint8Array), if any
    this.state = null;
    this.drag = null;
    this.element = this._build();
    this._readWidget();
  }

  _build() {
    const root = document.createElement("div");
    root.className = "drag-points-editor";
    root.style.cssText = "display:flex;flex-direction:column;gap:4px;width:100%;height:100%;font:12px sans-serif;color:#ddd";
    const bar = document.createElement("div");
    bar.style.cssText = "display:flex;flex-wrap:wrap;gap:3px;align-items:center";
    const button = (label, title, onClick) => {
      const b = document.createElement("button");
      b.textContent = label;
      b.title = title;
      b.dataset.action = label.toLowerCase().replace(/\s+/g, "-");
      b.style.cssText = "padding:1px 6px;background:#333;color:#ddd;border:1px solid #555;border-radius:3px;cursor:pointer";
      b.addEventListener("click", (e) => { e.stopPropagation(); onClick(); });
      bar.appendChild(b);
      return b;
    };
    this.modeButtons = {
      points: button("Points", "Click: handle, then target. Drag a marker to move it; right click deletes its pair.", () => this.setMode("points")),
      paint: button("Paint", "Brush the region that may change.", () => this.setMode("paint")),
      erase: button("Erase", "Brush away from the region that may change.", () => this.setMode("erase")),
    };
    const size = document.createElement("input");
    size.type = "range";
    size.min = "2";
    size.max = "128";
    size.value = String(this.brush);
    size.title = "Brush size (image pixels)";
    size.style.width = "70px";
    size.addEventListener("input", () => { this.brush = Number(size.value); });
    bar.appendChild(size);
    button("Undo", "Undo (Ctrl+Z)", () => this.undo());
    button("Redo", "Redo (Ctrl+Y)", () => this.redo());
    button("Clear points", "Remove every pair", () => this.change(() => this.state.clearPoints()));
    button("Clear mask", "Remove the painting", () => this.change(() => this.state.clearMask()));
    this.previewButton = button("Preview", "Show where content moves (FastDrag's warp of the image)", () => {
      this.preview = !this.preview;
      this.previewButton.style.background = this.preview ? "#2a5d9f" : "#333";
      this._previewCache = null;
      this.draw();
    });
    this.jsonButton = button("JSON", "Show the points as JSON text, to copy them or to type and paste pairs (Ctrl+Enter or leaving the box applies)", () => {
      this.setJSONView(this.jsonView.style.display === "none");
    });
    this.canvas = document.createElement("canvas");
    this.canvas.title = HELP;
    this.canvas.style.cssText = "flex:1;min-height:160px;width:100%;background:#111;outline:none;touch-action:none";
    this.canvas.addEventListener("pointerdown", (e) => this._down(e));
    this.canvas.addEventListener("pointermove", (e) => this._move(e));
    this.canvas.addEventListener("pointerup", (e) => this._up(e));
    // Right click deletes a pair here, so neither the browser's nor the node's context menu opens.
    this.canvas.addEventListener("contextmenu", (e) => { e.preventDefault(); e.stopPropagation(); });
    // Keys go to an invisible input focused by clicks on the canvas: ComfyUI's graph undo and
    // litegraph's shortcuts leave keys typed into inputs alone, so Ctrl+Z undoes the canvas, not the graph.
    this.keys = document.createElement("input");
    this.keys.setAttribute("aria-label", "points editor keyboard");
    this.keys.style.cssText = "position:absolute;width:1px;height:1px;opacity:0;pointer-events:none";
    this.keys.addEventListener("keydown", (e) => this._key(e));
    this.keys.addEventListener("input", () => { this.keys.value = ""; });
    this.keys.addEventListener("paste", (e) => {
      e.preventDefault();
      e.stopPropagation();
      this.applyText(e.clipboardData?.getData("text/plain") ?? "");
    });
    // The document as text, collapsed until asked for: the node's own text widget stays hidden.
    this.jsonView = document.createElement("textarea");
    this.jsonView.className = "drag-points-json";
    this.jsonView.spellcheck = false;
    this.jsonView.style.cssText = "display:none;height:90px;resize:vertical;font:11px monospace;background:#1b1b1b;color:#ddd;border:1px solid #555";
    this.jsonView.addEventListener("change", () => this.applyText(this.jsonView.value));
    this.jsonView.addEventListener("keydown", (e) => {
      e.stopPropagation(); // typing here is text, not graph shortcuts
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) this.applyText(this.jsonView.value);
    });
    this.status = document.createElement("div");
    this.status.style.cssText = "min-height:14px;opacity:0.8";
    root.style.position = "relative";
    root.append(bar, this.canvas, this.jsonView, this.status, this.keys);
    new ResizeObserver(() => this.draw()).observe(this.canvas);
    this.setMode("points");
    return root;
  }

  setJSONView(open) {
    this.jsonView.style.display = open ? "block" : "none";
    this.jsonButton.style.background = open ? "#2a5d9f" : "#333";
    if (open) this._showText();
  }

  _showText() {
    if (this.jsonView.style.display === "none" || document.activeElement === this.jsonView) return;
    try {
      const doc = JSON.parse(this.widget.value);
      this.jsonView.value = doc && typeof doc === "object" && !Array.isArray(doc) ? documentText(doc) : this.widget.value;
    } catch {
      this.jsonView.value = this.widget.value; // shown as typed, so it can be fixed
    }
  }

  /** Apply a typed or pasted document (or another pack's point list) as one undoable step. */
  applyText(text) {
    if (!text.trim()) return;
    try {
      if (this.state) {
        this.state.replaceWith(text);
        this._commit();
      } else {
        JSON.parse(text); // no image yet: keep the document for when it arrives
        this.widget.value = text;
        this.widget.callback?.(text);
        this.syncFromWidget();
      }
      this.status.textContent = "";
    } catch (error) {
      this.status.textContent = `points JSON: ${error.message}`;
    }
  }

  setMode(mode) {
    this.mode = mode;
    for (const [name, b] of Object.entries(this.modeButtons)) b.style.background = name === mode ? "#2a5d9f" : "#333";
    this.canvas.style.cursor = mode === "points" ? "crosshair" : "cell";
  }

  /** Re-read the document if the widget text changed other than through this canvas (typed, pasted). */
  syncFromWidget() {
    if (this.widget.value === this.written) return;
    this._readWidget();
    const img = this.image?.img;
    if (img && this.state && (this.state.width !== img.naturalWidth || this.state.height !== img.naturalHeight)) {
      this.state = this.state.resized(img.naturalWidth, img.naturalHeight);
    }
    this._showText();
    this._previewCache = null;
    this.draw();
  }

  _readWidget() {
    this.written = this.widget.value;
    try {
      const doc = JSON.parse(this.widget.value || "{}");
      this.state = doc.width && doc.height ? EditorState.fromJSON(doc) : null;
      this.pendingPairs = this.state ? null : doc.pairs || [];
      this.status.textContent = "";
    } catch (error) {
      this.state = null;
      this.status.textContent = `points JSON: ${error.message}`;
    }
  }

  /** Apply `fn` to the document and write it to the widget (which marks the node changed). */
  change(fn) {
    if (!this.state) return;
    fn();
    this._commit();
  }

  _commit() {
    const value = JSON.stringify(this.state.toJSON());
    this.written = value;
    if (this.widget.value !== value) {
      this.widget.value = value;
      this.widget.callback?.(value);
    }
    this._showText();
    this._previewCache = null;
    this.draw();
    this.node.setDirtyCanvas?.(true, true);
  }

  undo() {
    if (this.state?.undo()) this._commit();
  }

  redo() {
    if (this.state?.redo()) this._commit();
  }

  async setImage(url) {
    if (this.image?.url === url) return;
    const img = await loadImage(url);
    this.image = { img, url, pixels: pixelsOf(img) };
    const [w, h] = [img.naturalWidth, img.naturalHeight];
    if (!this.state) {
      this.state = new EditorState(w, h);
      for (const p of this.pendingPairs || []) this.state.pairs.push({ handle: p.handle, target: p.target || null });
      this._commit();
    } else if (this.state.width !== w || this.state.height !== h) {
      this.state = this.state.resized(w, h);
      this.baseMask = null;
      this._commit();
    }
    this._previewCache = null;
    this.draw();
  }

  async setBaseMask(url) {
    const img = await loadImage(url);
    const { data, width, height } = pixelsOf(img);
    if (!this.state || width !== this.state.width || height !== this.state.height) return;
    this.baseMask = new Uint8Array(width * height);
    for (let i = 0; i < this.baseMask.length; i++) this.baseMask[i] = data[4 * i] > 127 ? 1 : 0;
    this.draw();
  }

  /** The mask the node outputs, as shown: null when nothing limits the edit (the whole image). */
  shownMask() {
    if (!this.state) return null;
    if (!hasEdits(this.state.edits)) return this.baseMask;
    return composite(this.baseMask, this.state.edits);
  }

  _view() {
    const rect = this.canvas.getBoundingClientRect();
    return fitView(this.state.width, this.state.height, rect.width || 1, rect.height || 1);
  }

  _point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  _down(e) {
    if (!this.state) return;
    e.preventDefault();
    e.stopPropagation();
    this.keys.focus({ preventScroll: true });
    this.canvas.setPointerCapture(e.pointerId);
    const view = this._view();
    const at = this._point(e);
    const image = toImage(view, at);
    if (this.mode === "points") {
      const hit = hitTest(view, this.state.pairs, at, MARKER_RADIUS + 3);
      if (e.button === 2) {
        if (hit) this.change(() => this.state.deletePair(hit.pair));
        return;
      }
      if (hit) {
        this.state.record();
        this.drag = { kind: "marker", ...hit };
      } else if (insideImage(view, image)) {
        this.change(() => this.state.addPoint(image));
      }
      return;
    }
    this.state.record();
    this.drag = { kind: "brush", last: image, value: this.mode === "paint" ? PAINTED : ERASED };
    this.state.stroke(image, image, this.brush / 2, this.drag.value);
    this.draw();
  }

  _move(e) {
    if (!this.drag) return;
    e.stopPropagation();
    const image = toImage(this._view(), this._point(e));
    if (this.drag.kind === "marker") {
      this.state.movePoint(this.drag.pair, this.drag.which, image);
    } else {
      this.state.stroke(this.drag.last, image, this.brush / 2, this.drag.value);
      this.drag.last = image;
    }
    this._previewCache = null;
    this.draw();
  }

  _up(e) {
    if (!this.drag) return;
    e.stopPropagation();
    this.drag = null;
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

  _background() {
    if (!this.preview) return this.image.img;
    if (!this._previewCache) {
      const { data, width, height } = this.image.pixels;
      const start = performance.now();
      const warped = warpPreview(data, width, height, this.state.pairs, this.shownMask());
      const c = document.createElement("canvas");
      c.width = width;
      c.height = height;
      c.getContext("2d").putImageData(new ImageData(warped.pixels, width, height), 0, 0);
      this._previewCache = c;
      this.status.textContent = `preview: ${(performance.now() - start).toFixed(0)} ms`;
    }
    return this._previewCache;
  }

  _maskOverlay(mask) {
    const { width, height } = this.state;
    const c = document.createElement("canvas");
    c.width = width;
    c.height = height;
    const overlay = new ImageData(width, height);
    for (let i = 0; i < mask.length; i++) if (!mask[i]) overlay.data.set([0, 0, 0, 140], 4 * i);
    c.getContext("2d").putImageData(overlay, 0, 0);
    return c;
  }

  draw() {
    const canvas = this.canvas;
    const rect = canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(rect.width * ratio));
    canvas.height = Math.max(1, Math.round(rect.height * ratio));
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, rect.width, rect.height);
    if (!this.state || !this.image) {
      ctx.fillStyle = "#888";
      ctx.fillText("Connect an image (LoadImage) or run the graph to show it here.", 8, 20);
      return;
    }
    const view = this._view();
    const [x0, y0] = toCanvas(view, [0, 0]);
    const size = [this.state.width * view.scale, this.state.height * view.scale];
    ctx.drawImage(this._background(), x0, y0, ...size);
    const mask = this.shownMask();
    if (mask) ctx.drawImage(this._maskOverlay(mask), x0, y0, ...size); // darkens what may not change
    this.state.pairs.forEach((pair, i) => this._drawPair(ctx, view, pair, i + 1));
  }

  _drawPair(ctx, view, pair, number) {
    const h = toCanvas(view, pair.handle);
    if (pair.target) {
      const t = toCanvas(view, pair.target);
      const angle = Math.atan2(t[1] - h[1], t[0] - h[0]);
      const tip = [t[0] - MARKER_RADIUS * Math.cos(angle), t[1] - MARKER_RADIUS * Math.sin(angle)]; // at the marker's edge
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(...h);
      ctx.lineTo(...tip);
      for (const side of [-1, 1]) {
        ctx.moveTo(...tip);
        ctx.lineTo(tip[0] - 9 * Math.cos(angle + side * 0.45), tip[1] - 9 * Math.sin(angle + side * 0.45));
      }
      ctx.stroke();
      this._marker(ctx, t, TARGET_COLOUR, number);
    }
    this._marker(ctx, h, HANDLE_COLOUR, number);
  }

  _marker(ctx, [x, y], colour, number) {
    ctx.fillStyle = colour;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(x, y, MARKER_RADIUS, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = "#fff";
    ctx.font = "bold 10px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(String(number), x, y + 0.5);
  }

  /** Follow the upstream image: LoadImage's file, shown as soon as it is picked (before any run). */
  refreshSource() {
    const upstream = this.node.getInputNode?.(0);
    const file = upstream?.widgets?.find((w) => w.name === "image")?.value;
    if (typeof file !== "string" || !file || file === this.sourceFile) return;
    this.sourceFile = file;
    this.setImage(viewURL(file)).catch((e) => { this.status.textContent = e.message; });
  }
}

app.registerExtension({
  name: "drag_editing.points_editor",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name !== NODE) return;
    const created = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      const result = created?.apply(this, arguments);
      const widget = this.widgets.find((w) => w.name === "points");
      hideTextWidget(widget);
      const editor = new PointsCanvas(this, widget);
      this.dragEditor = editor;
      this.addDOMWidget("canvas", "drag_points_canvas", editor.element, { serialize: false, getMinHeight: () => 300 });
      this.setSize([Math.max(this.size[0], 380), Math.max(this.size[1], 520)]);
      // Follow typed edits of the JSON text and a newly picked upstream image (a light poll; nothing
      // is reloaded unless the text or the file changed, and never in the middle of a drag).
      this._dragPoll = setInterval(() => {
        if (editor.drag) return;
        editor.syncFromWidget();
        editor.refreshSource();
      }, 400);
      return result;
    };
    const removed = nodeType.prototype.onRemoved;
    nodeType.prototype.onRemoved = function () {
      clearInterval(this._dragPoll);
      return removed?.apply(this, arguments);
    };
    const configure = nodeType.prototype.onConfigure;
    nodeType.prototype.onConfigure = function () {
      const result = configure?.apply(this, arguments);
      this.dragEditor?.syncFromWidget(); // a loaded workflow restores the document exactly
      return result;
    };
    const executed = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (message) {
      const result = executed?.apply(this, arguments);
      const editor = this.dragEditor;
      const source = message?.drag_source?.[0];
      if (editor && source) {
        editor.setImage(savedURL(source)).then(() => {
          const mask = message?.drag_mask?.[0];
          if (mask) return editor.setBaseMask(savedURL(mask));
          editor.baseMask = null;
          editor.draw();
        }).catch((e) => { editor.status.textContent = e.message; });
      }
      return result;
    };
  },
});
