// The points editor's view: its DOM (toolbar, canvas, JSON text, status line) and its drawing. It draws
// what a scene callback describes, at most once per animation frame, sizes the canvas's backing store to
// the pixels it covers on screen, and rebuilds the darkened-mask overlay only when the mask changes.
// Input events go to the handlers it is given; it changes nothing itself.
//
// Drawing and events use the canvas's layout pixels (its CSS box before the graph's zoom, which scales the
// whole element), so marks keep their size relative to the image at any graph zoom, as the image does.

import { cameraView, fitView, toCanvas } from "../lib/geometry.js";
import { markRadius, pairMarks } from "../lib/marks.js";
import { wrapLines } from "../lib/text.js";

const HANDLE_COLOUR = "#e5484d";
const TARGET_COLOUR = "#3e9bff";
const WARNING_COLOUR = "#ffb224";
const HELP =
  "Points: click the content to move, then where it goes; drag a marker to move it; right click a marker to " +
  "delete its pair. Paint / Erase: brush the editable region. Wheel zooms, middle drag pans, 0 (or Fit) fits the image. " +
  "With the pointer over the canvas: Ctrl+Z undo, Ctrl+Y redo, Delete removes the last pair, Ctrl+V pastes points as " +
  "JSON (JSON shows them as text).";
const ACTIVE = "#2a5d9f";
const IDLE = "#333";
const PASTE_WINDOW_MS = 1000; // how long after Ctrl+V (or Shift+Insert) a paste event counts as asked for

/** The brush diameters the slider offers, in image pixels. */
export const BRUSH_SIZES = { min: 2, max: 128 };

/**
 * `handlers`: {down(event, at), move(event, at), up(event), leave(), wheel(event, at), key(event),
 * paste(text), applyText(text), action(name)} where `at` is the canvas point [x, y] in layout pixels.
 * `scene()` returns what to draw: {image, width, height, camera, smooth, overlay: {key, mask} | null,
 * pairs, warned, brush} (image: anything drawImage takes, in image pixels, drawn over the document's
 * width x height; camera: the canvas's zoom and pan, see geometry.js; smooth: whether to interpolate the
 * image; mask: Uint8Array of width x height, 1 = may change; pairs in image pixels; warned: the set of
 * pair indices drawn in the warning style; brush: {at, radius} in canvas pixels, or null), or
 * {image: null, message}.
 */
export class EditorView {
  constructor(handlers, scene) {
    this.scene = scene;
    this.frame = 0;
    this.overlay = null; // {key, canvas}
    this.element = this._build(handlers);
    this.resize = new ResizeObserver(() => this.requestDraw());
    this.resize.observe(this.canvas);
  }

  _build(handlers) {
    const root = document.createElement("div");
    root.className = "drag-points-editor";
    root.style.cssText = "position:relative;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;font:12px sans-serif;color:#ddd";
    const bar = document.createElement("div");
    bar.style.cssText = "display:flex;flex-wrap:wrap;gap:3px;align-items:center";
    this.buttons = {};
    const button = (parent, label, title, action = label.toLowerCase().replace(/\s+/g, "-")) => {
      const b = document.createElement("button");
      b.textContent = label;
      b.title = title;
      b.dataset.action = action;
      b.style.cssText = `padding:1px 6px;background:${IDLE};color:#ddd;border:1px solid #555;border-radius:3px;cursor:pointer`;
      b.addEventListener("click", (e) => {
        e.stopPropagation();
        handlers.action(b.dataset.action);
      });
      parent.appendChild(b);
      return b;
    };
    const tool = (label, title) => {
      const b = button(bar, label, title);
      this.buttons[b.dataset.action] = b;
    };
    tool("Points", "Click: handle, then target. Drag a marker to move it; right click deletes its pair.");
    tool("Paint", "Brush the region that may change.");
    tool("Erase", "Brush away from the region that may change.");
    this.brushSize = document.createElement("input");
    this.brushSize.type = "range";
    this.brushSize.min = String(BRUSH_SIZES.min);
    this.brushSize.max = String(BRUSH_SIZES.max);
    this.brushSize.title = "Brush size (diameter, image pixels)";
    this.brushSize.style.width = "70px";
    this.brushSize.addEventListener("input", () => handlers.action("brush"));
    this.brushReadout = document.createElement("span");
    this.brushReadout.className = "drag-brush-size";
    this.brushReadout.style.cssText = "min-width:38px;font-variant-numeric:tabular-nums";
    bar.append(this.brushSize, this.brushReadout);
    tool("Fit", "Show the whole image (0)");
    tool("Undo", "Undo (Ctrl+Z)");
    tool("Redo", "Redo (Ctrl+Y)");
    tool("Clear points", "Remove every pair");
    tool("Clear mask", "Remove the painting");
    tool("Preview", "Show what FastDragWarp does to the image: each latent pixel's 8 x 8 block moves; holes show as holes");
    tool("Fill", "In the preview, show BNNI's fill of the holes");
    tool("JSON", "Show the points as JSON text, to copy them or to type and paste pairs (Ctrl+Enter or leaving the box applies)");

    // The canvas fills a box that takes the node's room left by the rest; placed absolutely in it, so that its
    // backing store's size (the canvas's intrinsic size) never feeds back into the layout. Otherwise more
    // status lines grow the node (Vue renderer) instead of shrinking the canvas, after the graph's history has
    // recorded the smaller size, and a graph undo to that size regrows it, recorded as a step of its own.
    this.stage = document.createElement("div");
    this.stage.style.cssText = "position:relative;flex:1 1 0;min-height:160px";
    this.canvas = document.createElement("canvas");
    this.canvas.title = HELP;
    this.canvas.style.cssText = "position:absolute;inset:0;width:100%;height:100%;background:#111;outline:none;touch-action:none;cursor:crosshair";
    this.stage.append(this.canvas);
    const at = (e) => this.toLayout(e.clientX, e.clientY);
    // The canvas's pointer and wheel events are taken at the window's capture phase, before anything
    // else sees them: the Vue node renderer hands the wheel and middle-button drags to the graph from a
    // capturing listener on its node layer, and here they zoom and pan the canvas instead. A handler that
    // stops an event's propagation keeps it from the graph and the node.
    this.unlisten = [];
    const own = (type, listener, options = {}) => {
      const filtered = (e) => { if (e.target === this.canvas) listener(e); };
      window.addEventListener(type, filtered, { capture: true, ...options });
      this.unlisten.push(() => window.removeEventListener(type, filtered, { capture: true }));
    };
    own("pointerdown", (e) => {
      this.keys.focus({ preventScroll: true });
      this.hoverFocused = false; // a click keeps the keyboard after the pointer leaves
      this.canvas.setPointerCapture(e.pointerId);
      handlers.down(e, at(e));
    });
    own("pointermove", (e) => handlers.move(e, at(e)));
    own("pointerup", (e) => handlers.up(e));
    own("wheel", (e) => handlers.wheel(e, at(e)), { passive: false });
    this.canvas.addEventListener("pointerleave", () => {
      handlers.leave();
      if (this.hoverFocused && document.activeElement === this.keys) this.keys.blur();
      this.hoverFocused = false;
    });
    // The canvas's keys work while the pointer is over it, with no click (a click would edit): the pointer
    // entering gives it the keyboard, unless someone is typing elsewhere; leaving gives it back.
    this.canvas.addEventListener("pointerenter", () => {
      const typing = document.activeElement?.matches?.("input, textarea, [contenteditable='true'], [contenteditable='']");
      if (typing && document.activeElement !== this.keys) return;
      if (document.activeElement !== this.keys) {
        this.keys.focus({ preventScroll: true });
        this.hoverFocused = true;
      }
    });
    // Right click deletes a pair here, so neither the browser's nor the node's context menu opens; a
    // middle click pans, so it neither pastes (X11) nor scrolls.
    for (const type of ["contextmenu", "auxclick"]) {
      this.canvas.addEventListener(type, (e) => {
        e.preventDefault();
        e.stopPropagation();
      });
    }
    // Keys go to an invisible input focused by clicks on the canvas: ComfyUI's graph undo and
    // litegraph's shortcuts leave keys typed into inputs alone, so Ctrl+Z undoes the canvas, not the graph.
    this.keys = document.createElement("input");
    this.keys.setAttribute("aria-label", "points editor keyboard");
    this.keys.style.cssText = "position:absolute;width:1px;height:1px;opacity:0;pointer-events:none";
    // Only a paste the user asked for with its keys is read: on Linux a middle-button press (the canvas's
    // pan) also pastes the primary selection, whatever text is selected anywhere on the page.
    let pasteAsked = 0;
    this.keys.addEventListener("keydown", (e) => {
      const key = e.key.toLowerCase();
      if (((e.ctrlKey || e.metaKey) && key === "v") || (e.shiftKey && key === "insert")) pasteAsked = performance.now();
      handlers.key(e);
    });
    this.keys.addEventListener("input", () => { this.keys.value = ""; });
    this.keys.addEventListener("paste", (e) => {
      e.preventDefault();
      e.stopPropagation();
      const asked = performance.now() - pasteAsked < PASTE_WINDOW_MS;
      pasteAsked = 0;
      if (asked) handlers.paste(e.clipboardData?.getData("text/plain") ?? "");
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
    // Under the canvas: what the points need, then each thing wrong with them on a line of its own; a
    // notice with its buttons (a new image kept the points: Undo, Clear points); and the image pixel
    // under the cursor with the zoom.
    const line = document.createElement("div");
    line.style.cssText = "display:flex;flex-wrap:wrap;gap:2px 8px;align-items:flex-start;min-height:16px";
    this.status = document.createElement("span");
    this.status.className = "drag-status";
    // Wrapped, one warning a line: what the user must read is never cut off.
    this.status.style.cssText = "flex:1 1 200px;min-width:0;white-space:pre-line;overflow-wrap:anywhere;opacity:0.85";
    this.notice = document.createElement("span");
    this.notice.className = "drag-notice";
    this.notice.style.cssText = `display:none;color:${WARNING_COLOUR}`;
    this.noticeText = document.createElement("span");
    // As many as a notice has (Undo and Clear points; one per result to use), made when first needed.
    this.noticeButtons = [];
    this.noticeButton = () => {
      const b = button(this.notice, "", "");
      b.style.marginLeft = "4px";
      return b;
    };
    this.notice.prepend(this.noticeText);
    this.readout = document.createElement("span");
    this.readout.className = "drag-readout";
    // A fixed width: a readout that grew or shrank as the pointer moves would re-wrap the status beside it,
    // and the canvas would jump under the pointer mid-gesture.
    this.readout.style.cssText = "flex:none;min-width:20ch;text-align:right;opacity:0.7;font-variant-numeric:tabular-nums";
    line.append(this.status, this.notice, this.readout);
    root.append(bar, this.stage, this.jsonView, line, this.keys);
    return root;
  }

  /** Show which buttons are on: {mode, preview, fill, json}, and the brush size (image pixels). */
  showToggles({ mode, preview, fill, json, brush }) {
    for (const name of ["points", "paint", "erase"]) this.buttons[name].style.background = name === mode ? ACTIVE : IDLE;
    this.buttons.preview.style.background = preview ? ACTIVE : IDLE;
    this.buttons.fill.style.background = fill ? ACTIVE : IDLE;
    this.buttons.fill.disabled = !preview;
    this.buttons.json.style.background = json ? ACTIVE : IDLE;
    this.jsonView.style.display = json ? "block" : "none";
    this.brushSize.value = String(brush);
    this.brushReadout.textContent = `${brush} px`;
  }

  /** The status line: `text` (in the warning colour when `warning`), and `notice`: {text, label?, action?}
   * (a message with a button that runs handlers.action(action); without a label, no button), or {text,
   * buttons: [{label, action}, ...]} (up to two buttons), or null. */
  showStatus(text, warning, notice) {
    if (this.status.textContent !== text) { // called on every frame: leave the DOM alone when nothing changed
      this.status.textContent = text;
      this.status.title = text;
    }
    this.status.style.color = warning ? WARNING_COLOUR : "";
    this.notice.style.display = notice ? "inline" : "none";
    if (!notice) return;
    this.noticeText.textContent = notice.text;
    const buttons = notice.buttons ?? (notice.label ? [{ label: notice.label, action: notice.action }] : []);
    while (this.noticeButtons.length < buttons.length) this.noticeButtons.push(this.noticeButton());
    this.noticeButtons.forEach((b, i) => {
      b.style.display = buttons[i] ? "" : "none";
      b.textContent = buttons[i]?.label ?? "";
      b.dataset.action = buttons[i]?.action ?? "";
    });
  }

  /** Whether the JSON text is open and not being typed in (so that it may be rewritten). */
  get jsonIdle() {
    return this.jsonView.style.display !== "none" && document.activeElement !== this.jsonView;
  }

  /** The canvas's size in layout pixels. */
  get size() {
    return [this.canvas.clientWidth || 1, this.canvas.clientHeight || 1];
  }

  /** The image's placement on the canvas through `camera` (image pixels -> canvas layout pixels). */
  placement(width, height, camera) {
    return cameraView(width, height, ...this.size, camera);
  }

  /** The badge radius of the marks for a `width` x `height` image (canvas pixels): it follows the size
   * the image is fitted to, not the canvas's zoom, so zooming in gives room between the marks. */
  markRadius(width, height) {
    const { scale } = fitView(width, height, ...this.size);
    return markRadius(width * scale, height * scale);
  }

  requestDraw() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** Client point -> canvas layout point (the drawing's coordinates). The graph's zoom scales the element
   * (a CSS transform); each axis has its own scale, as the drawing's (the layout size is whole pixels, the
   * box on screen is not). The compositor may still show the canvas up to half a device pixel from its box
   * (pixel snapping, which the page cannot see). */
  toLayout(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const [w, h] = this.size;
    return [(clientX - rect.left) * w / (rect.width || w), (clientY - rect.top) * h / (rect.height || h)];
  }

  /** Canvas layout point -> client point (toLayout's inverse). */
  toClient([x, y]) {
    const rect = this.canvas.getBoundingClientRect();
    const [w, h] = this.size;
    return [rect.left + x * rect.width / w, rect.top + y * rect.height / h];
  }

  /** Size the backing store to the device pixels the canvas covers now (its layout size times the graph's
   * zoom and the device pixel ratio); returns canvas pixels per layout pixel, [across, down]. Each axis has
   * its own: both sizes are rounded (the backing store to whole device pixels, the layout size to whole
   * pixels), differently, and one ratio for both drew the marks up to 0.3 % of the height off the pointer
   * (1-1.5 image pixels at the bottom of a 768-pixel image at a graph zoom of 0.6). */
  _fitBackingStore() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const [w, h] = [Math.max(1, Math.round(rect.width * ratio)), Math.max(1, Math.round(rect.height * ratio))];
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    return [w / this.size[0], h / this.size[1]];
  }

  /** FastDragWarp's circle ({x, y, rx, ry}, image pixels) as a warning-coloured outline. */
  _drawCircle(ctx, view, { x, y, rx, ry }) {
    ctx.save();
    ctx.strokeStyle = WARNING_COLOUR;
    ctx.globalAlpha = 0.9;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.ellipse(...toCanvas(view, [x, y]), rx * view.scale, ry * view.scale, 0, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();
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
    const [across, down] = this._fitBackingStore();
    const [cw, ch] = this.size;
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(across, 0, 0, down, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    const scene = this.scene();
    if (!scene.image) {
      ctx.fillStyle = "#888";
      ctx.font = "12px sans-serif";
      wrapLines(scene.message || "", cw - 16, (line) => ctx.measureText(line).width).forEach((line, i) => ctx.fillText(line, 8, 20 + 16 * i));
      return;
    }
    const view = this.placement(scene.width, scene.height, scene.camera);
    const [x0, y0] = toCanvas(view, [0, 0]);
    const size = [scene.width * view.scale, scene.height * view.scale];
    ctx.imageSmoothingEnabled = scene.smooth;
    ctx.drawImage(scene.image, x0, y0, ...size);
    if (scene.overlay) ctx.drawImage(this._overlayFor(scene.overlay, scene.width, scene.height), x0, y0, ...size); // darkens what may not change
    ctx.imageSmoothingEnabled = true;
    const r = this.markRadius(scene.width, scene.height);
    if (scene.circle) this._drawCircle(ctx, view, scene.circle);
    scene.pairs.forEach((pair, i) => this._drawPair(ctx, view, pair, i + 1, r, scene.warned.has(i)));
    if (scene.brush) this._drawBrush(ctx, scene.brush);
  }

  _drawPair(ctx, view, pair, number, r, warned) {
    const h = toCanvas(view, pair.handle);
    const t = pair.target ? toCanvas(view, pair.target) : null;
    const marks = pairMarks(h, t, r);
    const handleColour = warned ? WARNING_COLOUR : HANDLE_COLOUR;
    if (marks.arrow) {
      const { from, to, head } = marks.arrow;
      const angle = Math.atan2(to[1] - from[1], to[0] - from[0]);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = Math.max(1.5, 0.25 * r);
      ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo(...from);
      ctx.lineTo(...to);
      for (const side of [-1, 1]) {
        ctx.moveTo(...to);
        ctx.lineTo(to[0] - head * Math.cos(angle + side * 0.45), to[1] - head * Math.sin(angle + side * 0.45));
      }
      ctx.stroke();
    }
    if (warned) {
      // A dashed ring around the handle, wide enough to see past the dot at any zoom.
      ctx.strokeStyle = WARNING_COLOUR;
      ctx.lineWidth = Math.max(1.5, 0.2 * r);
      ctx.setLineDash([0.5 * r, 0.35 * r]);
      ctx.beginPath();
      ctx.arc(...h, 1.6 * marks.dot + 0.3 * r, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    // The target's dot on top: where the content goes is what a short drag must not hide.
    this._dot(ctx, h, marks.dot, handleColour);
    if (t) this._dot(ctx, t, marks.dot, TARGET_COLOUR);
    this._badge(ctx, marks.handleBadge, r, handleColour, warned ? "#000" : "#fff", number);
    if (t) this._badge(ctx, marks.targetBadge, r, TARGET_COLOUR, "#fff", number);
  }

  _dot(ctx, [x, y], radius, colour) {
    ctx.fillStyle = colour;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = Math.max(1, 0.35 * radius);
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }

  /** A numbered badge of radius `r`; the text shrinks to fit, so that two or three digits stay inside. */
  _badge(ctx, [x, y], r, colour, ink, label) {
    ctx.fillStyle = colour;
    ctx.strokeStyle = "rgba(0,0,0,0.6)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    const text = String(label);
    let font = 1.15 * r;
    ctx.font = `bold ${font}px sans-serif`;
    const width = ctx.measureText(text).width;
    if (width > 1.6 * r) {
      font *= (1.6 * r) / width;
      ctx.font = `bold ${font}px sans-serif`;
    }
    ctx.fillStyle = ink;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, x, y + 0.05 * font);
  }

  /** The brush's footprint at its true size: a light ring on a dark one, seen on any image. */
  _drawBrush(ctx, { at, radius }) {
    for (const [colour, width] of [["rgba(0,0,0,0.8)", 3], ["#fff", 1.5]]) {
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.arc(...at, Math.max(1, radius), 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  destroy() {
    for (const stop of this.unlisten) stop();
    this.resize.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
