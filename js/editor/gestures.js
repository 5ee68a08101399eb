// The points editor's gestures: what the pointer, the wheel and the keys do on the canvas. A press places
// a point, grabs a marker (dragged, it moves; clicked, it places the pending target there) or starts a
// brush stroke; each gesture is one step of the document's undo history (EditorState.begin() ... end()).
// The wheel zooms about the pointer and a middle drag pans: the camera (geometry.js) is kept here.

import { fitCamera, hitTest, insideImage, panBy, toImage, zoomAt } from "../lib/geometry.js";
import { ERASED, PAINTED } from "../lib/mask.js";
import { readoutText, sizeText } from "../lib/scene.js";

const CLICK_SLOP = 3; // canvas px a pointer may travel while pressed and still make a click

/**
 * `editor`: the PointsEditor whose canvas this is; used: doc (EditorDocument), source.image, tool {mode,
 * brush}, view (EditorView), placement(), changed(mask) (after a change made to the document's state
 * directly) and update() (draw again). Canvas points `at` are [x, y] in the canvas's layout pixels.
 */
export class Gestures {
  constructor(editor) {
    this.editor = editor;
    this.drag = null; // {kind: "pan" | "marker" | "brush", ...} while the pointer is pressed
    this.hover = null; // the canvas point under the pointer, while it is over the canvas
    this.camera = null; // the canvas's zoom and pan (geometry.js); null = the fitted image
    this.cameraSize = null; // the document size the camera was set for
  }

  /** Follow the document's size: another size shows whole (the camera is reset). */
  followSize(state) {
    const size = state && sizeText(state.width, state.height);
    if (size !== this.cameraSize) this.camera = null;
    this.cameraSize = size;
  }

  get _state() {
    return this.editor.doc.state;
  }

  /** Whether the canvas takes gestures: a document and its image show. */
  get _live() {
    return Boolean(this._state && this.editor.source.image);
  }

  down(e, at) {
    if (!this._live) return;
    e.preventDefault();
    e.stopPropagation();
    if (e.button === 1) {
      this.drag = { kind: "pan", last: at };
      return;
    }
    const { doc, tool, view } = this.editor;
    const state = this._state;
    const placement = this.editor.placement();
    const image = toImage(placement, at);
    if (tool.mode === "points") {
      const hit = hitTest(placement, state.pairs, at, view.markRadius(state.width, state.height));
      if (e.button === 2) {
        if (hit) doc.change(() => state.deletePair(hit.pair));
      } else if (hit) {
        state.begin();
        this.drag = { kind: "marker", ...hit, start: at, image, moved: false };
      } else if (insideImage(placement, image)) {
        doc.change(() => state.addPoint(image));
      }
      return;
    }
    if (e.button !== 0) return;
    state.begin();
    this.drag = { kind: "brush", last: image, value: tool.mode === "paint" ? PAINTED : ERASED };
    state.stroke(image, image, tool.brush / 2, this.drag.value);
    this.editor.changed(true);
  }

  move(e, at) {
    this.hover = at;
    const drag = this.drag;
    if (drag) e.stopPropagation();
    if (drag?.kind === "pan") {
      const state = this._state;
      this.camera = panBy(this.camera ?? fitCamera(state.width, state.height), this.editor.placement(), [at[0] - drag.last[0], at[1] - drag.last[1]]);
      drag.last = at;
    } else if (drag?.kind === "marker") {
      // A marker moves once the pointer leaves the click's slop, so that a click on it stays a click.
      drag.moved ||= Math.hypot(at[0] - drag.start[0], at[1] - drag.start[1]) > CLICK_SLOP;
      if (drag.moved) {
        this._state.movePoint(drag.pair, drag.which, toImage(this.editor.placement(), at));
        this.editor.changed(false);
      }
    } else if (drag) {
      const image = toImage(this.editor.placement(), at);
      this._state.stroke(drag.last, image, this.editor.tool.brush / 2, drag.value);
      drag.last = image;
      this.editor.changed(true);
    }
    this.showReadout();
    if (drag || this.editor.tool.mode !== "points") this.editor.update();
  }

  up(e) {
    if (!this.drag) return;
    e.stopPropagation();
    const { kind, moved, image } = this.drag;
    this.drag = null;
    if (kind === "pan") {
      this.editor.update();
      return;
    }
    const state = this._state;
    state.end();
    // A click on a marker that dragged nothing, while a handle waits for its target, places that target
    // there: a short drag is placed by clicking next to its own handle.
    if (kind === "marker" && !moved && state.pending && insideImage(this.editor.placement(), image)) state.addPoint(image);
    this.editor.doc.commit();
  }

  leave() {
    this.hover = null;
    this.showReadout();
    this.editor.update();
  }

  /** The wheel zooms about the pointer (the image pixel under it stays under it). */
  wheel(e, at) {
    if (!this._live) return;
    e.preventDefault();
    e.stopPropagation();
    const state = this._state;
    const lines = e.deltaMode === 1 ? 16 : 1; // Firefox reports lines
    const camera = zoomAt(this.camera ?? fitCamera(state.width, state.height), this.editor.placement(), ...this.editor.view.size, at, Math.exp(-e.deltaY * lines * 0.002));
    this.camera = camera.zoom === 1 ? null : camera;
    this.hover = at;
    this.showReadout();
    this.editor.update();
  }

  key(e) {
    const key = e.key.toLowerCase();
    const ctrl = e.ctrlKey || e.metaKey;
    const { doc } = this.editor;
    if (ctrl && key === "z" && !e.shiftKey) doc.undo();
    else if (ctrl && (key === "y" || key === "z")) doc.redo();
    else if (key === "delete" || key === "backspace") doc.change(() => doc.state.deletePair(doc.state.pairs.length - 1));
    else if (key === "0") this.fit();
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  /** Show the whole image again (after zooming the canvas). */
  fit() {
    this.camera = null;
    this.showReadout();
    this.editor.update();
  }

  /** The image pixel under the pointer and the canvas's zoom, beside the status. */
  showReadout() {
    this.editor.view.showReadout(readoutText(this._state && this.editor.placement(), this.hover, this.camera));
  }
}
