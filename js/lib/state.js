// The points editor's document: drag pairs and mask edits on one image, with undo and redo, and its
// JSON form (the DRAG_POINTS document the node reads, plus the mask edits under "mask").
//
// JSON: {"width": W, "height": H, "pairs": [{"handle": [x, y], "target": [x, y]}, ...],
//        "mask": {"runs": [value, count, ...]}}   (mask only when something was painted or erased)
// A handle still waiting for its target is stored without "target", so the node reports it instead of
// silently dropping it.

import { clampToImage } from "./geometry.js";
import { decodeRuns, encodeRuns, hasEdits, stampSegment } from "./mask.js";

const HISTORY_LIMIT = 100;

export class EditorState {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.pairs = [];
    this.edits = new Uint8Array(width * height);
    this.undoStack = [];
    this.redoStack = [];
  }

  /** Whether the last pair still waits for its target. */
  get pending() {
    const last = this.pairs[this.pairs.length - 1];
    return Boolean(last && !last.target);
  }

  _snapshot() {
    const pairs = this.pairs.map((p) => ({ handle: [...p.handle], target: p.target ? [...p.target] : null }));
    return { width: this.width, height: this.height, pairs, edits: this.edits.slice() };
  }

  _restore(snapshot) {
    ({ width: this.width, height: this.height, pairs: this.pairs, edits: this.edits } = snapshot);
  }

  /** Remember the current document so that the next change can be undone. */
  record() {
    this.undoStack.push(this._snapshot());
    if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
    this.redoStack = [];
  }

  /** Open a gesture (a marker drag, a brush stroke): every change until end() is one undo step. */
  begin() {
    this._gesture = { redo: this.redoStack, depth: this.undoStack.length + 1 };
    this.record();
  }

  /** Close the gesture; one that changed nothing leaves no undo step (and keeps what redo had). */
  end() {
    const gesture = this._gesture;
    this._gesture = null;
    if (!gesture || this.undoStack.length !== gesture.depth) return;
    const before = this.undoStack[this.undoStack.length - 1];
    const same = JSON.stringify(before.pairs) === JSON.stringify(this.pairs) && before.edits.every((v, i) => v === this.edits[i]);
    if (!same) return;
    this.undoStack.pop();
    this.redoStack = gesture.redo;
  }

  undo() {
    if (!this.undoStack.length) return false;
    this.redoStack.push(this._snapshot());
    this._restore(this.undoStack.pop());
    return true;
  }

  redo() {
    if (!this.redoStack.length) return false;
    this.undoStack.push(this._snapshot());
    this._restore(this.redoStack.pop());
    return true;
  }

  _inside(point) {
    return clampToImage({ width: this.width, height: this.height }, point);
  }

  /** A click: a new handle, or the target of the handle waiting for one. Returns the pair index. */
  addPoint(point) {
    this.record();
    if (this.pending) {
      this.pairs[this.pairs.length - 1].target = this._inside(point);
    } else {
      this.pairs.push({ handle: this._inside(point), target: null });
    }
    return this.pairs.length - 1;
  }

  /** Move a marker; within a gesture (begin() ... end()), so that a whole drag is one undo step. */
  movePoint(pair, which, point) {
    this.pairs[pair][which] = this._inside(point);
  }

  deletePair(pair) {
    if (pair < 0 || pair >= this.pairs.length) return false;
    this.record();
    this.pairs.splice(pair, 1);
    return true;
  }

  clearPoints() {
    this.record();
    this.pairs = [];
  }

  /** One step of a brush stroke (value PAINTED or ERASED), within a gesture (begin() ... end()). */
  stroke(from, to, radius, value) {
    return stampSegment(this.edits, this.width, this.height, from, to, radius, value);
  }

  clearMask() {
    this.record();
    this.edits = new Uint8Array(this.width * this.height);
  }

  /** Clear the points and the mask as one undo step (what the official demo does on a new image). */
  clearAll() {
    this.record();
    this.pairs = [];
    this.edits = new Uint8Array(this.width * this.height);
  }

  /** Rescale the document to an image of another size (see resized), as one undoable step: undo gives
   * back the points and the mask edits at the old size. */
  rescale(width, height) {
    const out = this.resized(width, height);
    this.record();
    ({ width: this.width, height: this.height, pairs: this.pairs, edits: this.edits } = out);
  }

  /** The same document for an image of another size: points scaled, mask edits resampled (nearest). */
  resized(width, height) {
    const out = new EditorState(width, height);
    const sx = width / this.width;
    const sy = height / this.height;
    const scale = (p) => (p ? out._inside([p[0] * sx, p[1] * sy]) : null);
    out.pairs = this.pairs.map((p) => ({ handle: scale(p.handle), target: scale(p.target) }));
    for (let y = 0; y < height; y++) {
      const row = Math.min(this.height - 1, Math.floor((y + 0.5) / sy));
      for (let x = 0; x < width; x++) {
        out.edits[y * width + x] = this.edits[row * this.width + Math.min(this.width - 1, Math.floor((x + 0.5) / sx))];
      }
    }
    return out;
  }

  /**
   * Take a typed or pasted document, as one undoable step. A document object replaces pairs and mask
   * edits (none without "mask"); one for another image size is scaled to this one. A bare list of
   * points, alternating handle and target ([[x, y], ...] or [{x, y}, ...], as other packs' point editors
   * write them), replaces the pairs only, in this image's pixels. Throws with a readable message,
   * changing nothing, if the document cannot be read.
   */
  replaceWith(doc) {
    if (typeof doc === "string") doc = JSON.parse(doc);
    let incoming;
    if (Array.isArray(doc)) {
      const points = doc.map((p, i) => {
        const xy = Array.isArray(p) ? p : [p?.x, p?.y];
        if (xy.length !== 2 || !xy.every(Number.isFinite)) throw new Error(`points: point ${i + 1} is not [x, y] or {x, y}`);
        return xy;
      });
      incoming = new EditorState(this.width, this.height);
      for (let i = 0; i < points.length; i += 2) incoming.pairs.push({ handle: points[i], target: points[i + 1] ?? null });
    } else {
      const sized = { width: this.width, height: this.height, ...doc };
      incoming = EditorState.fromJSON(sized);
      if (incoming.width !== this.width || incoming.height !== this.height) incoming = incoming.resized(this.width, this.height);
    }
    this.record();
    this.pairs = incoming.pairs.map((p) => ({ handle: this._inside(p.handle), target: p.target ? this._inside(p.target) : null }));
    if (!Array.isArray(doc)) this.edits = incoming.edits;
  }

  /** The pairs as the document stores them (and the node gets them): coordinates rounded to 0.01 pixel,
   * [{handle: [x, y], target: [x, y] | null}]. */
  storedPairs() {
    return this.pairs.map((p) => ({ handle: storedPoint(p.handle), target: p.target ? storedPoint(p.target) : null }));
  }

  toJSON() {
    const doc = {
      width: this.width,
      height: this.height,
      pairs: this.storedPairs().map((p) => (p.target ? p : { handle: p.handle })),
    };
    if (hasEdits(this.edits)) doc.mask = { runs: encodeRuns(this.edits) };
    return doc;
  }

  /** Read a document written by toJSON (or typed by hand); throws with a readable message if malformed. */
  static fromJSON(doc) {
    if (typeof doc === "string") doc = JSON.parse(doc);
    const { width, height } = doc;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new Error("points: width and height must be positive whole numbers");
    }
    const state = new EditorState(width, height);
    const point = (p) => (Array.isArray(p) && p.length === 2 && p.every(Number.isFinite) ? [p[0], p[1]] : null);
    state.pairs = (doc.pairs || []).map((p, i) => {
      const handle = point(p.handle);
      if (!handle) throw new Error(`points: pair ${i + 1} has no valid handle`);
      return { handle, target: p.target === undefined ? null : point(p.target) };
    });
    if (doc.mask) state.edits = decodeRuns(doc.mask.runs, width * height);
    return state;
  }
}

/** Image point [x, y] as the document stores it: each coordinate rounded to 0.01 pixel. */
export function storedPoint([x, y]) {
  return [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
}

/** The widget's text as the JSON view shows it: a document laid out by documentText, anything else as
 * it is (text that is no JSON stays as typed, so that it can be fixed). */
export function shownText(text) {
  try {
    const doc = JSON.parse(text);
    return doc && typeof doc === "object" && !Array.isArray(doc) ? documentText(doc) : text;
  } catch {
    return text;
  }
}

/** A points document as text for people: the size, then one pair per line, the mask runs on one line. */
export function documentText(doc) {
  const { pairs = [], mask, ...size } = doc;
  const value = (v) => (Array.isArray(v) && v.length === 2 ? `[${v[0]}, ${v[1]}]` : JSON.stringify(v));
  const entries = (object) => Object.entries(object).map(([key, v]) => `${JSON.stringify(key)}: ${value(v)}`).join(", ");
  const lines = [` ${entries(size)}${Object.keys(size).length ? "," : ""}`];
  if (pairs.length) lines.push(' "pairs": [', pairs.map((pair) => `  {${entries(pair)}}`).join(",\n"), " ]");
  else lines.push(' "pairs": []');
  if (mask !== undefined) lines[lines.length - 1] += `,\n "mask": ${JSON.stringify(mask)}`;
  return `{\n${lines.join("\n")}\n}`;
}
