// The points editor's view: its DOM (toolbar, canvas, JSON text, status line) and its drawing. It shows
// the scene it is given (js/lib/scene.js editorScene: what to draw and the status line), draws it again
// when the canvas is resized, sizes the canvas's backing store to the pixels it covers on screen, and
// rebuilds the darkened-mask overlay only when the mask changes. Input events go to the handlers it is
// given; it changes nothing itself.
//
// Drawing and events use the canvas's layout pixels (its CSS box before the graph's zoom, which scales the
// whole element), so marks keep their size relative to the image at any graph zoom, as the image does.

import { cameraView, fitView, toCanvas } from "../lib/geometry.js";
import { markRadius } from "../lib/marks.js";
import { wrapLines } from "../lib/text.js";
import { BRUSH_SIZES } from "../lib/tool.js";
import { WARNING_COLOUR, paintMarks } from "./painter.js";

const HELP =
  "Points: click the content to move, then where it goes; drag a marker to move it; right click a marker to " +
  "delete its pair. Paint / Erase: brush the editable region. Wheel zooms, middle drag pans, 0 (or Fit) fits the image. " +
  "With the pointer over the canvas: Ctrl+Z undo, Ctrl+Y redo, Delete removes the last pair, Ctrl+V pastes points as " +
  "JSON (JSON shows them as text).";
const ACTIVE = "#2a5d9f";
const IDLE = "#333";
const PASTE_WINDOW_MS = 1000; // how long after Ctrl+V (or Shift+Insert) a paste event counts as asked for

/**
 * `gestures`: {down(event, at), move(event, at), up(event), leave(), wheel(event, at), key(event)}, the
 * canvas's pointer, wheel and keys, where `at` is the canvas point [x, y] in layout pixels; `handlers`:
 * {applyText(text) (the JSON text was applied, or text pasted on the canvas), action(name) (a button)}.
 */
/** An element `tag` with `className` and inline style `css`. */
function element(tag, className, css) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.style.cssText = css;
  return e;
}

/** A button that runs `onAction(its data-action)` when clicked (the action is kept on the button, so that
 * a notice can reuse it for another). */
function button(label, title, onAction, action = label.toLowerCase().replace(/\s+/g, "-")) {
  const b = element("button", "", `padding:1px 6px;background:${IDLE};color:#ddd;border:1px solid #555;border-radius:3px;cursor:pointer`);
  b.textContent = label;
  b.title = title;
  b.dataset.action = action;
  b.addEventListener("click", (e) => {
    e.stopPropagation();
    onAction(b.dataset.action);
  });
  return b;
}

/** The toolbar: {bar, buttons (by action), brushSize (the slider), brushReadout}. */
function toolbar(onAction) {
  const bar = element("div", "", "display:flex;flex-wrap:wrap;gap:3px;align-items:center");
  const buttons = {};
  const tool = (label, title) => {
    const b = button(label, title, onAction);
    buttons[b.dataset.action] = b;
    bar.append(b);
  };
  tool("Points", "Click: handle, then target. Drag a marker to move it; right click deletes its pair.");
  tool("Paint", "Brush the region that may change.");
  tool("Erase", "Brush away from the region that may change.");
  const brushSize = Object.assign(element("input", "", "width:70px"), { type: "range", min: String(BRUSH_SIZES.min), max: String(BRUSH_SIZES.max), title: "Brush size (diameter, image pixels)" });
  brushSize.addEventListener("input", () => onAction("brush"));
  const brushReadout = element("span", "drag-brush-size", "min-width:38px;font-variant-numeric:tabular-nums");
  bar.append(brushSize, brushReadout);
  tool("Fit", "Show the whole image (0)");
  tool("Undo", "Undo (Ctrl+Z)");
  tool("Redo", "Redo (Ctrl+Y)");
  tool("Clear points", "Remove every pair");
  tool("Clear mask", "Remove the painting");
  tool("Preview", "Show what FastDragWarp does to the image: each latent pixel's 8 x 8 block moves; holes show as holes");
  tool("Fill", "In the preview, show BNNI's fill of the holes");
  tool("JSON", "Show the points as JSON text, to copy them or to type and paste pairs (Ctrl+Enter or leaving the box applies)");
  return { bar, buttons, brushSize, brushReadout };
}

/** The document as text, collapsed until asked for (the node's own text widget stays hidden). */
function jsonText(applyText) {
  const text = element("textarea", "drag-points-json", "display:none;height:90px;resize:vertical;font:11px monospace;background:#1b1b1b;color:#ddd;border:1px solid #555");
  text.spellcheck = false;
  text.addEventListener("change", () => applyText(text.value));
  text.addEventListener("keydown", (e) => {
    e.stopPropagation(); // typing here is text, not graph shortcuts
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) applyText(text.value);
  });
  return text;
}

/** Under the canvas: what the points need, then each thing wrong with them on a line of its own; a notice
 * with its buttons (a new image kept the points: Undo, Clear points); and the image pixel under the cursor
 * with the zoom. Returns {line, status, notice, noticeText, readout}. */
function statusLine() {
  const line = element("div", "", "display:flex;flex-wrap:wrap;gap:2px 8px;align-items:flex-start;min-height:16px");
  // Wrapped, one warning a line: what the user must read is never cut off.
  const status = element("span", "drag-status", "flex:1 1 200px;min-width:0;white-space:pre-line;overflow-wrap:anywhere;opacity:0.85");
  const notice = element("span", "drag-notice", `display:none;color:${WARNING_COLOUR}`);
  const noticeText = document.createElement("span");
  notice.append(noticeText);
  // A fixed width: a readout that grew or shrank as the pointer moves would re-wrap the status beside it,
  // and the canvas would jump under the pointer mid-gesture.
  const readout = element("span", "drag-readout", "flex:none;min-width:20ch;text-align:right;opacity:0.7;font-variant-numeric:tabular-nums");
  line.append(status, notice, readout);
  return { line, status, notice, noticeText, readout };
}

/**
 * Send the canvas's input to `gestures` and `applyText` (a paste); returns the functions that stop it.
 * The pointer and wheel events are taken at the window's capture phase, before anything else sees them:
 * the Vue node renderer hands the wheel and middle-button drags to the graph from a capturing listener on
 * its node layer, and here they zoom and pan the canvas instead. A gesture that stops an event's
 * propagation keeps it from the graph and the node. Keys go to `view.keys`, an invisible input: ComfyUI's
 * graph undo and litegraph's shortcuts leave keys typed into inputs alone, so Ctrl+Z undoes the canvas.
 */
function listen(view, gestures, applyText) {
  const { canvas, keys } = view;
  const at = (e) => view.toLayout(e.clientX, e.clientY);
  const unlisten = [];
  const own = (type, listener, options = {}) => {
    const filtered = (e) => { if (e.target === canvas) listener(e); };
    window.addEventListener(type, filtered, { capture: true, ...options });
    unlisten.push(() => window.removeEventListener(type, filtered, { capture: true }));
  };
  let hoverFocused = false; // the keyboard came with the pointer, not with a click
  own("pointerdown", (e) => {
    keys.focus({ preventScroll: true });
    hoverFocused = false; // a click keeps the keyboard after the pointer leaves
    canvas.setPointerCapture(e.pointerId);
    gestures.down(e, at(e));
  });
  own("pointermove", (e) => gestures.move(e, at(e)));
  own("pointerup", (e) => gestures.up(e));
  own("wheel", (e) => gestures.wheel(e, at(e)), { passive: false });
  canvas.addEventListener("pointerleave", () => {
    gestures.leave();
    if (hoverFocused && document.activeElement === keys) keys.blur();
    hoverFocused = false;
  });
  // The canvas's keys work while the pointer is over it, with no click (a click would edit): the pointer
  // entering gives it the keyboard, unless someone is typing elsewhere; leaving gives it back.
  canvas.addEventListener("pointerenter", () => {
    const typing = document.activeElement?.matches?.("input, textarea, [contenteditable='true'], [contenteditable='']");
    if (typing && document.activeElement !== keys) return;
    if (document.activeElement !== keys) {
      keys.focus({ preventScroll: true });
      hoverFocused = true;
    }
  });
  // Right click deletes a pair here, so neither the browser's nor the node's context menu opens; a
  // middle click pans, so it neither pastes (X11) nor scrolls.
  for (const type of ["contextmenu", "auxclick"]) {
    canvas.addEventListener(type, (e) => {
      e.preventDefault();
      e.stopPropagation();
    });
  }
  // Only a paste the user asked for with its keys is read: on Linux a middle-button press (the canvas's
  // pan) also pastes the primary selection, whatever text is selected anywhere on the page.
  let pasteAsked = 0;
  keys.addEventListener("keydown", (e) => {
    const key = e.key.toLowerCase();
    if (((e.ctrlKey || e.metaKey) && key === "v") || (e.shiftKey && key === "insert")) pasteAsked = performance.now();
    gestures.key(e);
  });
  keys.addEventListener("input", () => { keys.value = ""; });
  keys.addEventListener("paste", (e) => {
    e.preventDefault();
    e.stopPropagation();
    const asked = performance.now() - pasteAsked < PASTE_WINDOW_MS;
    pasteAsked = 0;
    if (asked) applyText(e.clipboardData?.getData("text/plain") ?? "");
  });
  return unlisten;
}

export class EditorView {
  constructor(gestures, { applyText, action }) {
    this.scene = null; // the scene shown (render)
    this.frame = 0;
    this.overlay = null; // {key, canvas}
    this.onAction = action;
    this.element = element("div", "drag-points-editor", "position:relative;display:flex;flex-direction:column;gap:4px;width:100%;height:100%;font:12px sans-serif;color:#ddd");
    const { bar, buttons, brushSize, brushReadout } = toolbar(action);
    Object.assign(this, { buttons, brushSize, brushReadout });
    // The canvas fills a box that takes the node's room left by the rest; placed absolutely in it, so that its
    // backing store's size (the canvas's intrinsic size) never feeds back into the layout. Otherwise more
    // status lines grow the node (Vue renderer) instead of shrinking the canvas, after the graph's history has
    // recorded the smaller size, and a graph undo to that size regrows it, recorded as a step of its own.
    const stage = element("div", "", "position:relative;flex:1 1 0;min-height:160px");
    this.canvas = element("canvas", "", "position:absolute;inset:0;width:100%;height:100%;background:#111;outline:none;touch-action:none;cursor:crosshair");
    this.canvas.title = HELP;
    stage.append(this.canvas);
    this.keys = element("input", "", "position:absolute;width:1px;height:1px;opacity:0;pointer-events:none");
    this.keys.setAttribute("aria-label", "points editor keyboard");
    this.jsonView = jsonText(applyText);
    const { line, status, notice, noticeText, readout } = statusLine();
    Object.assign(this, { status, notice, noticeText, readout });
    this.noticeButtons = []; // as many as a notice has (Undo and Clear points; one per result to use)
    this.element.append(bar, stage, this.jsonView, line, this.keys);
    this.unlisten = listen(this, gestures, applyText);
    this.resize = new ResizeObserver(() => this.requestDraw());
    this.resize.observe(this.canvas);
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

  /** Show `scene` (js/lib/scene.js editorScene): its status line now, its drawing at once. */
  render(scene) {
    this.scene = scene;
    this._showStatus(scene.status);
    this.draw();
  }

  /** The text beside the status: the image pixel under the pointer and the zoom (scene.js readoutText). */
  showReadout(text) {
    this.readout.textContent = text;
  }

  /** The status line: `text` (in the warning colour when `warning`), and `notice`: {text, label?, action?}
   * (a message with a button that runs handlers.action(action); without a label, no button), or {text,
   * buttons: [{label, action}, ...]}, or null. */
  _showStatus({ text, warning, notice }) {
    if (this.status.textContent !== text) { // called on every change: leave the DOM alone when nothing changed
      this.status.textContent = text;
      this.status.title = text;
    }
    this.status.style.color = warning ? WARNING_COLOUR : "";
    this.notice.style.display = notice ? "inline" : "none";
    if (!notice) return;
    this.noticeText.textContent = notice.text;
    const buttons = notice.buttons ?? (notice.label ? [{ label: notice.label, action: notice.action }] : []);
    while (this.noticeButtons.length < buttons.length) {
      const b = button("", "", this.onAction);
      b.style.marginLeft = "4px";
      this.notice.append(b);
      this.noticeButtons.push(b);
    }
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

  /** Draw the scene shown again at the next animation frame (the canvas was resized). */
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
    const scene = this.scene;
    if (!scene) return;
    const [across, down] = this._fitBackingStore();
    const [cw, ch] = this.size;
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(across, 0, 0, down, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    if (!scene.image) {
      ctx.fillStyle = "#888";
      ctx.font = "12px sans-serif";
      wrapLines(scene.message || "", cw - 16, (line) => ctx.measureText(line).width).forEach((line, i) => ctx.fillText(line, 8, 20 + 16 * i));
      return;
    }
    const view = this.placement(scene.width, scene.height, scene.camera);
    const [x0, y0] = toCanvas(view, [0, 0]);
    const size = [scene.width * view.scale, scene.height * view.scale];
    ctx.imageSmoothingEnabled = !scene.camera || view.scale < 2; // zoomed in, each image pixel shows as a square
    ctx.drawImage(scene.image, x0, y0, ...size);
    if (scene.overlay) ctx.drawImage(this._overlayFor(scene.overlay, scene.width, scene.height), x0, y0, ...size); // darkens what may not change
    ctx.imageSmoothingEnabled = true;
    paintMarks(ctx, view, scene, this.markRadius(scene.width, scene.height));
  }

  destroy() {
    for (const stop of this.unlisten) stop();
    this.resize.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
