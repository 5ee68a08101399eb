// What the points editor shows, as a plain value computed from its state: the drawing on the canvas, the
// status line under it with its notice, and the readout of the pixel under the pointer. The view draws
// the value as given; nothing here touches the DOM.
//
// Image points are pixels of the image shown (x right, y down from its top-left corner), as the document
// keeps them; canvas points are the canvas's layout pixels (geometry.js).

import { OUTSIDE_CIRCLE, checkPoints } from "./checks.js";
import { clampToImage, insideImage, toImage } from "./geometry.js";
import { hasEdits } from "./mask.js";
import { storedPoint } from "./state.js";
import { circleInImage } from "./warp_preview.js";

export const sizeText = (width, height) => `${width}×${height}`;

const NO_IMAGE = "Connect an image (LoadImage) or run the graph to show it here.";
const PREVIEW_OFF = "preview off: the image has another size";

/** What a document holds, for the messages that say what is kept: "2 pairs and the painted mask", "1 pair",
 * or "" when it holds nothing. `state`: the document (EditorState), or null before it has a size; then
 * `pending` pairs are kept for the image to come. */
export function holdings(state, pending = 0) {
  const pairs = state ? state.pairs.length : pending;
  const painted = Boolean(state && hasEdits(state.edits));
  return [pairs ? `${pairs} pair${pairs === 1 ? "" : "s"}` : null, painted ? "the painted mask" : null].filter(Boolean).join(" and ");
}

/** Whether the document (an EditorState, or null) is for another size than the image shown ([width,
 * height], or null when none shows): after undoing a rescale, or a document typed for another size. */
export function sizeMismatch(state, image) {
  return Boolean(state && image && (image[0] !== state.width || image[1] !== state.height));
}

/**
 * Whether the notice of a kept document (`kept` {text, step, rescaled?, cleared?}: a new image kept the
 * points, rescaled or as they were, or cleared them) still stands: until the document changes, i.e. while
 * the undo step it showed at is the newest. A size mismatch or no image hides it without ending it.
 */
export function keptStands(kept, state, image) {
  if (!kept) return false;
  return !state || !image || sizeMismatch(state, image) || state.undoStack.at(-1) === kept.step;
}

/**
 * The notice beside the status line, or null: the document is for another image size (Rescale); a new
 * image kept the document, rescaled (Undo, Clear) or as it was (Clear), or a result became the source
 * (Undo); or the results of the last run that can become the next source (`results`: how many; buttons
 * 1 … N). Buttons are {label, action} (the editor's actions).
 */
export function editorNotice(state, image, kept, results) {
  if (sizeMismatch(state, image)) {
    const text = `the points are for ${sizeText(state.width, state.height)}, the image is ${sizeText(...image)}`;
    return { text, buttons: [{ label: "Rescale", action: "rescale" }] };
  }
  if (kept && state.undoStack.at(-1) === kept.step) {
    const clear = { label: hasEdits(state.edits) ? "Clear points and mask" : "Clear points", action: "clear-all" };
    const undo = { label: "Undo", action: "undo" };
    return { text: kept.text, buttons: kept.cleared ? [undo] : kept.rescaled ? [undo, clear] : [clear] };
  }
  if (results) {
    const buttons = Array.from({ length: results }, (_, i) => ({ label: String(i + 1), action: `use-result-${i}` }));
    return { text: "use output", buttons };
  }
  return null;
}

/** While no image shows: what the document holds, so that points kept for an image still to come do not
 * look lost (a reloaded workflow whose image comes from other nodes). `pending`: pairs kept by a document
 * that has no size yet; `awaiting`: why no image shows ({text, action?}), or null. */
function storedText(state, pending, awaiting) {
  const what = holdings(state, pending);
  if (!what) return "";
  const image = state ? ` on the ${sizeText(state.width, state.height)} image` : "";
  return `${what}${image}: ${awaiting?.action === "fetch" ? "fetch the image to see them" : "they show with the image"}`;
}

/**
 * What the editor shows. `input`:
 * - state: the document (EditorState), or null before it has a size; pending: how many pairs a document
 *   without a size keeps for the image to come;
 * - image: the image shown, {source (anything drawImage takes), width, height}, or null; awaiting: why no
 *   image shows ({text, label?, action?}: the notice), or null;
 * - error: a document or image that could not be read, or null;
 * - mask: the editable region the node outputs (Uint8Array of width x height, 1 = may change) with
 *   maskKey, a key that changes with it; null when the whole image may change;
 * - circle: FastDragWarp's circle on the latent grid ({cy, cx, r}, see checks.js), null when its mask is
 *   empty, undefined when not known;
 * - preview: {asked: whether the preview is on, image: FastDragWarp's relocation drawn on the image (for
 *   the document's size) and info: the line about it}, image null while it is off or the sizes differ;
 * - kept, results: see editorNotice;
 * - tool: {mode, brush (diameter, image pixels), hover (the canvas point under the pointer, or null),
 *   panning}; camera: the canvas's zoom and pan (geometry.js), null for the fitted image.
 *
 * Returns {status: {text, warning, notice}, image: null, message} while no image shows, else {status,
 * image, width, height, camera, overlay: {key, mask} | null, pairs (image points, a copy), warned (the set
 * of pair indices drawn in the warning style), circle ({x, y, rx, ry} in image pixels, shown while a
 * handle lies outside it, else null), brush ({at: canvas point, radius: image pixels}, or null)}.
 */
export function editorScene({ state, pending = 0, image, awaiting = null, error = null, mask = null, maskKey, circle, preview, kept, results, tool, camera }) {
  if (!state || !image) {
    const status = { text: error ?? storedText(state, pending, awaiting), warning: Boolean(error), notice: awaiting };
    return { status, image: null, message: awaiting?.text ?? NO_IMAGE };
  }
  const shown = [image.width, image.height];
  const check = checkPoints(state.storedPairs(), state.width, state.height, { region: mask, circle });
  const mismatch = sizeMismatch(state, shown);
  const parts = [error, check.line, preview.asked ? (mismatch ? PREVIEW_OFF : preview.info) : null];
  const status = {
    text: [parts.filter(Boolean).join(" · "), ...check.details].join("\n"), // every warning in full, one a line
    warning: Boolean(error || check.warnings.length),
    notice: editorNotice(state, shown, kept, results),
  };
  return {
    status,
    image: (!mismatch && preview.image) || image.source,
    width: state.width,
    height: state.height,
    camera,
    overlay: mask ? { key: maskKey, mask } : null,
    pairs: state.pairs.map(({ handle, target }) => ({ handle: [...handle], target: target ? [...target] : null })),
    warned: new Set(check.warnings.map((w) => w.pair)),
    // FastDragWarp's circle, shown while a handle lies outside it: where the handle must go.
    circle: check.warnings.some((w) => w.reason === OUTSIDE_CIRCLE) ? circleInImage(circle, state.width, state.height) : null,
    brush: tool.mode !== "points" && tool.hover && !tool.panning ? { at: tool.hover, radius: tool.brush / 2 } : null,
  };
}

/** The readout beside the status: the image pixel of the point a click at canvas point `hover` stores
 * (rounded to the document's 0.01 px, not the exact pointer), and the canvas's zoom when zoomed. `view`:
 * the image's placement (geometry.js), null while no document shows. */
export function readoutText(view, hover, camera) {
  const point = hover && view ? toImage(view, hover) : null;
  const stored = point && insideImage(view, point) ? storedPoint(clampToImage(view, point)) : null;
  const parts = [stored ? `x ${Math.floor(stored[0])}, y ${Math.floor(stored[1])}` : "", camera ? `${Math.round(camera.zoom * 100)}%` : ""];
  return parts.filter(Boolean).join(" · ");
}
