// The points editor's view: its DOM (toolbar, canvas, JSON text, status line) and its drawing. It draws
// what a scene callback describes, at most once per animation frame, keeps the canvas's backing store
// until the canvas's size changes, and rebuilds the darkened-mask overlay only when the mask changes.
// Input events go to the handlers it is given; it changes nothing itself.

import { fitView, toCanvas } from "../lib/geometry.js";

const MARKER_RADIUS = 7;
const HANDLE_COLOUR = "#e5484d";
const TARGET_COLOUR = "#3e9bff";
const HELP =
  "Points: click the content to move, then where it goes; drag a marker to move it; right click a marker to " +
  "delete its pair. Paint / Erase: brush the editable region. Ctrl+Z undo, Ctrl+Y redo, Delete removes the last pair, " +
  "Ctrl+V pastes points as JSON (JSON shows them as text).";
const ACTIVE = "#2a5d9f";
const IDLE = "#333";

/**
 * `handlers`: {down(event, at), move(event, at), up(event), key(event), paste(text), applyText(text),
 * action(name)} where `at` is the canvas point [x, y] in CSS pixels. `scene()` returns what to draw:
 * {image, width, height, overlay: {key, mask} | null, pairs, message} (image: anything drawImage takes,
 * in image pixels; mask: Uint8Array of width x height, 1 = may change; pairs in image pixels).
 */
export class EditorView {
  constructor(handlers, scene) {
    this.scene = scene;
    this.frame = 0;
    this.overlay = null; // {key, canvas}
    this.element = this._build(handlers);
    this.resize = new ResizeObserver(() => this._fitBackingStore());
    this.resize.observe(this.canvas);
  }

  _build(handlers) {
    const root = document.createElement("div");
    root.className = "drag-points-editor";
    root.style.cssText = "position:relative;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;font:12px sans-serif;color:#ddd";
    const bar = document.createElement("div");
    bar.style.cssText = "display:flex;flex-wrap:wrap;gap:3px;align-items:center";
    this.buttons = {};
    const button = (label, title, action = label.toLowerCase().replace(/\s+/g, "-")) => {
      const b = document.createElement("button");
      b.textContent = label;
      b.title = title;
      b.dataset.action = action;
      b.style.cssText = `padding:1px 6px;background:${IDLE};color:#ddd;border:1px solid #555;border-radius:3px;cursor:pointer`;
      b.addEventListener("click", (e) => {
        e.stopPropagation();
        handlers.action(action);
      });
      bar.appendChild(b);
      this.buttons[action] = b;
    };
    button("Points", "Click: handle, then target. Drag a marker to move it; right click deletes its pair.");
    button("Paint", "Brush the region that may change.");
    button("Erase", "Brush away from the region that may change.");
    this.brushSize = document.createElement("input");
    this.brushSize.type = "range";
    this.brushSize.min = "2";
    this.brushSize.max = "128";
    this.brushSize.title = "Brush size (image pixels)";
    this.brushSize.style.width = "70px";
    this.brushSize.addEventListener("input", () => handlers.action("brush"));
    bar.appendChild(this.brushSize);
    button("Undo", "Undo (Ctrl+Z)");
    button("Redo", "Redo (Ctrl+Y)");
    button("Clear points", "Remove every pair");
    button("Clear mask", "Remove the painting");
    button("Preview", "Show what FastDragWarp does to the image: each latent pixel's 8 x 8 block moves; holes show as holes");
    button("Fill", "In the preview, show BNNI's fill of the holes");
    button("JSON", "Show the points as JSON text, to copy them or to type and paste pairs (Ctrl+Enter or leaving the box applies)");

    this.canvas = document.createElement("canvas");
    this.canvas.title = HELP;
    this.canvas.style.cssText = "flex:1;min-height:160px;width:100%;background:#111;outline:none;touch-action:none";
    const at = (e) => {
      const rect = this.canvas.getBoundingClientRect();
      return [e.clientX - rect.left, e.clientY - rect.top];
    };
    this.canvas.addEventListener("pointerdown", (e) => {
      this.keys.focus({ preventScroll: true });
      this.canvas.setPointerCapture(e.pointerId);
      handlers.down(e, at(e));
    });
    this.canvas.addEventListener("pointermove", (e) => handlers.move(e, at(e)));
    this.canvas.addEventListener("pointerup", (e) => handlers.up(e));
    // Right click deletes a pair here, so neither the browser's nor the node's context menu opens.
    this.canvas.addEventListener("contextmenu", (e) => {
      e.preventDefault();
      e.stopPropagation();
    });
    // Keys go to an invisible input focused by clicks on the canvas: ComfyUI's graph undo and
    // litegraph's shortcuts leave keys typed into inputs alone, so Ctrl+Z undoes the canvas, not the graph.
    this.keys = document.createElement("input");
    this.keys.setAttribute("aria-label", "points editor keyboard");
    this.keys.style.cssText = "position:absolute;width:1px;height:1px;opacity:0;pointer-events:none";
    this.keys.addEventListener("keydown", (e) => handlers.key(e));
    this.keys.addEventListener("input", () => { this.keys.value = ""; });
    this.keys.addEventListener("paste", (e) => {
      e.preventDefault();
      e.stopPropagation();
      handlers.paste(e.clipboardData?.getData("text/plain") ?? "");
    });
    // The document as text, collapsed until asked for: the node's own text widget stays hidden.
    this.jsonView = document.createElement("textarea");
    this.jsonView.className = "drag-points-json";
    this.jsonView.spellcheck = false;
    this.jsonView.style.cssText = "display:none;height:90px;resize:vertical;font:11px monospace;background:#1b1b1b;color:#ddd;border:1px solid #555";
    this.jsonView.addEventListener("change", () => handlers.applyText(this.jsonView.value));
    this.jsonView.addEventListener("keydown", (e) => {
      e.stopPropagation(); // typing here is text, not graph shortcuts
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) handlers.applyText(this.jsonView.value);
    });
    this.status = document.createElement("div");
    this.status.style.cssText = "min-height:14px;opacity:0.8";
    root.append(bar, this.canvas, this.jsonView, this.status, this.keys);
    return root;
  }

  /** Show which buttons are on: {mode, preview, fill, json}. */
  showToggles({ mode, preview, fill, json }) {
    for (const name of ["points", "paint", "erase"]) this.buttons[name].style.background = name === mode ? ACTIVE : IDLE;
    this.buttons.preview.style.background = preview ? ACTIVE : IDLE;
    this.buttons.fill.style.background = fill ? ACTIVE : IDLE;
    this.buttons.fill.disabled = !preview;
    this.buttons.json.style.background = json ? ACTIVE : IDLE;
    this.jsonView.style.display = json ? "block" : "none";
    this.canvas.style.cursor = mode === "points" ? "crosshair" : "cell";
  }

  /** Whether the JSON text is open and not being typed in (so that it may be rewritten). */
  get jsonIdle() {
    return this.jsonView.style.display !== "none" && document.activeElement !== this.jsonView;
  }

  /** The image's placement on the canvas (image pixels -> CSS pixels). */
  placement(width, height) {
    const rect = this.canvas.getBoundingClientRect();
    return fitView(width, height, rect.width || 1, rect.height || 1);
  }

  requestDraw() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  _fitBackingStore() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [Math.max(1, Math.round(rect.width * ratio)), Math.max(1, Math.round(rect.height * ratio))];
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.requestDraw();
  }

  _overlayFor({ key, mask }, width, height) {
    if (this.overlay?.key !== key) {
      const canvas = this.overlay?.canvas.width === width && this.overlay.canvas.height === height ? this.overlay.canvas : document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const shade = new ImageData(width, height);
      const words = new Uint32Array(shade.data.buffer);
      const dark = 0x8c000000; // black at alpha 140 (little-endian RGBA)
      for (let i = 0; i < mask.length; i++) if (!mask[i]) words[i] = dark;
      canvas.getContext("2d").putImageData(shade, 0, 0);
      this.overlay = { key, canvas };
    }
    return this.overlay.canvas;
  }

  draw() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = this.canvas.width / Math.max(1, rect.width);
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, rect.width, rect.height);
    const scene = this.scene();
    if (!scene.image) {
      ctx.fillStyle = "#888";
      ctx.fillText(scene.message || "", 8, 20);
      return;
    }
    const view = this.placement(scene.width, scene.height);
    const [x0, y0] = toCanvas(view, [0, 0]);
    const size = [scene.width * view.scale, scene.height * view.scale];
    ctx.drawImage(scene.image, x0, y0, ...size);
    if (scene.overlay) ctx.drawImage(this._overlayFor(scene.overlay, scene.width, scene.height), x0, y0, ...size); // darkens what may not change
    scene.pairs.forEach((pair, i) => this._drawPair(ctx, view, pair, i + 1));
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

  destroy() {
    this.resize.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}

export { MARKER_RADIUS };
