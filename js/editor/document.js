// The points editor's document bound to the node's `points` widget: the EditorState (js/lib/state.js, with
// its undo history) that the widget holds as text, kept in step both ways. Every change made here is
// written to the widget at once, so it is saved with the workflow and re-runs the node; a text that
// changed elsewhere (a loaded workflow, the graph's undo) is read back.

import { EditorState } from "../lib/state.js";
import { holdings, sizeText } from "../lib/scene.js";

/**
 * `widget`: {read() -> the widget's text, write(text) (the document changed on the canvas)}.
 * `hooks`: {changed(mask) (after every change; mask: the mask may have changed too), rescaled() (the
 * document was rescaled to another image: a connected mask shown with it is of the old image)}.
 */
export class EditorDocument {
  constructor(widget, hooks) {
    this.widget = widget;
    this.hooks = hooks;
    this.state = null; // null while the document has no image size (no image has come yet)
    this.pending = []; // the pairs of a document without a size, for the image to come
    this.written = undefined; // the text last read or written, to tell another writer's text
    // {text, step, rescaled?, cleared?}: a new image kept the document (rescaled, or as it was) or cleared it
    // (a result used); step: the undo snapshot it showed at (see scene.js keptStands).
    this.kept = null;
  }

  /** Read the widget's text again if it changed other than through this document. `image`: the shown
   * image's [width, height] or null. Returns as read() does, or undefined when nothing changed. */
  sync(image) {
    if (this.widget.read() !== this.written) return this.read(image);
    return undefined;
  }

  /** Read the widget's text; a document for another size than the shown image ([width, height], or null)
   * is rescaled to it. Returns the error to show (a text that is no document), or null. */
  read(image) {
    const text = this.widget.read();
    this.written = text;
    let error = null;
    try {
      const doc = JSON.parse(text || "{}");
      this.state = doc.width && doc.height ? EditorState.fromJSON(doc) : null;
      this.pending = this.state ? [] : doc.pairs || [];
    } catch (e) {
      this.state = null;
      error = `points JSON: ${e.message}`;
    }
    if (image && this.state && (this.state.width !== image[0] || this.state.height !== image[1])) this.rescaleTo(...image);
    this.hooks.changed(true);
    return error;
  }

  /** Apply `fn` to the state and write the document (one command; `fn` makes its one undo step). */
  change(fn) {
    if (!this.state) return;
    fn();
    this.commit();
  }

  /** Write the state to the widget (when its text differs) after a change made to it directly. */
  commit() {
    const text = JSON.stringify(this.state.toJSON());
    this.written = text;
    if (this.widget.read() !== text) this.widget.write(text);
    this.hooks.changed(true);
  }

  undo() {
    if (this.state?.undo()) this.commit();
  }

  redo() {
    if (this.state?.redo()) this.commit();
  }

  /** Rescale the document to a `width` x `height` image as one undoable step, said in the notice with Undo. */
  rescaleTo(width, height) {
    const from = sizeText(this.state.width, this.state.height);
    this.state.rescale(width, height);
    this.kept = { text: `points rescaled from ${from} to ${sizeText(width, height)}`, step: this.state.undoStack.at(-1), rescaled: true };
    this.hooks.rescaled();
    this.commit();
  }

  /**
   * Fit the document to a newly shown `width` x `height` image. A document without a size takes it, with
   * the pairs it kept. `result` (N): the image is result N of the last run, now the source: points and mask
   * are cleared as one undo step, as the official demo does ("Use output"). A document for another size is
   * rescaled (one undo step). `fresh`: another picture of the same size: the document is kept, said in the
   * notice with a button to clear it.
   */
  showImage(width, height, { fresh = false, result = null } = {}) {
    if (!this.state) {
      this.state = new EditorState(width, height);
      for (const p of this.pending) this.state.pairs.push({ handle: p.handle, target: p.target || null });
      this.commit();
    } else if (result) {
      if (this.state.width !== width || this.state.height !== height) this.state.rescale(width, height);
      this.state.clearAll();
      this.kept = { text: `result ${result} is the new source: points and mask cleared`, step: this.state.undoStack.at(-1), cleared: true };
      this.commit();
    } else if (this.state.width !== width || this.state.height !== height) {
      this.rescaleTo(width, height);
    } else if (fresh) {
      const what = holdings(this.state);
      if (what) this.kept = { text: `new image: ${what} kept`, step: this.state.undoStack.at(-1), rescaled: false };
    }
  }

  /** Apply a typed or pasted document (or another pack's point list) as one undoable step; without a state
   * yet, it is read as the widget's text (fitted to the shown `image`, as read() does). Returns as read()
   * does; throws, changing nothing, when the text is no JSON or no document. */
  applyText(text, image) {
    if (this.state) {
      this.change(() => this.state.replaceWith(text));
      return null;
    }
    JSON.parse(text);
    this.widget.write(text);
    return this.read(image);
  }
}
