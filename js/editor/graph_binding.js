// The graph binding of one DragPointsEditor node's editor: it keeps the editor in step with the graph
// around the node, through widget callbacks and connection changes, never by polling. The node's `points`
// widget holds the document; the canvas shows only the image the node receives: an upstream LoadImage's
// file at once (through a Scale Image for Drag, at the size it gives), an image made by other nodes after a
// run, or when "Fetch image" runs just the nodes it comes from (waiting on the server's events). After a
// run, the images the points led to are offered as "Use output N".

import { downstream, imageRef, isType, linkOf, pairsAndMask, reachable, upstreamPrompt, warpOptions, watchWidget } from "../lib/graph.js";
import { watchPrompt } from "../lib/prompt_events.js";
import { workingSize } from "../lib/working_size.js";
import { PointsEditor } from "./controller.js";

export const NODE = "DragPointsEditor";
const IMAGE_INPUT = 0;
const POINTS_OUTPUT = 1;
const MASK_OUTPUT = 2;
// Nodes whose IMAGE output is their picked file, so that the canvas can show it before any run.
const FILE_NODES = ["LoadImage", "LoadImageOutput"];
// Scale Image for Drag: between a file node and the editor, the canvas shows the file at the size it gives.
const SCALE_NODE = "DragImageScale";
const BYPASSED = 4; // a node's mode when bypassed: its image passes through unchanged
// The id, in the prompt that "Fetch image" queues, of the PreviewImage added on the editor's image input.
const FETCH_PREVIEW = "drag_points_fetch";
// The node's properties that keep the canvas's tool: saved in the workflow and restored by the graph's
// undo (which rebuilds the node), so neither resets the mode or the brush.
const MODE_PROPERTY = "editor_mode";
const BRUSH_PROPERTY = "brush_size";

/** What Scale Image for Drag `node` does to an image, as PointsEditor.setImage takes it ({key, size}). */
function scaling(node) {
  const [fit, size, multiple] = ["fit", "size", "multiple_of"].map((name) => node.widgets?.find((w) => w.name === name)?.value);
  return { key: `${fit}|${size}|${multiple}`, size: (width, height) => workingSize(width, height, size, fit, multiple) };
}

/** Call `changed(node)` when a widget of a node that `node`'s image depends on takes a new value (another
 * file, another size: the image shown is no longer the node's); returns the functions that stop it. Only a
 * new value counts: the frontend also calls widgets' callbacks while it loads a workflow, and an editor
 * upstream (a sequential edit) stamps a document that has no image size yet with its image's. */
function watchUpstream(node, changed) {
  const unwatch = [];
  for (const upstream of reachable(node, IMAGE_INPUT, true)) {
    for (const widget of upstream.widgets ?? []) {
      const meaning = isType(upstream, NODE) && widget.name === "points" ? pairsAndMask : JSON.stringify;
      let last = meaning(widget.value);
      unwatch.push(watchWidget(widget, (value) => {
        if (meaning(value) === last) return;
        last = meaning(value);
        changed(upstream);
      }));
    }
  }
  return unwatch;
}

/** The /view path of a saved image `item` ({filename, subfolder?, type?}; `type` when it names none). */
function viewPath(item, type) {
  return `/view?${new URLSearchParams({ filename: item.filename, subfolder: item.subfolder || "", type: item.type || type })}`;
}

/** Upload `item` (a saved image: {filename, subfolder?, type?}, an output unless it says) to the input
 * folder as `name`; returns the value a LoadImage picks it by ("sub/name" or "name"). */
async function uploadResult(api, item, name) {
  const blob = await (await api.fetchApi(viewPath(item, "output"))).blob();
  const body = new FormData();
  body.append("image", new File([blob], name, { type: blob.type || "image/png" }));
  const response = await api.fetchApi("/upload/image", { method: "POST", body });
  if (response.status !== 200) throw new Error(`the upload failed (HTTP ${response.status})`);
  const { name: uploaded, subfolder } = await response.json();
  return subfolder ? `${subfolder}/${uploaded}` : uploaded;
}

/** Keeps one node's editor in step with the graph around it. `app`, `api`: the frontend's. `checkpoint()`
 * records the graph's state as one step of the frontend's undo (after each canvas command). */
export class Binding {
  constructor(node, widget, { app, api, checkpoint }) {
    Object.assign(this, { node, widget, app, api });
    this.unwatch = [];
    this.from = null; // the image input's source, "node id:slot", as last seen
    this.request = 0; // of the image asked for: a newer request (or another source) makes an older one stale
    this.fetching = null; // the watch of the prompt "Fetch image" queued, while it runs
    this.results = [];
    this.editor = new PointsEditor({
      read: () => this.widget.value,
      write: (text) => {
        this.widget.value = text;
        this.widget.callback?.(text);
        this.node.setDirtyCanvas?.(true, true);
        checkpoint();
      },
      warpOptions: () => warpOptions(this.node, POINTS_OUTPUT, MASK_OUTPUT),
      settings: () => ({ mode: this.node.properties?.[MODE_PROPERTY], brush: this.node.properties?.[BRUSH_PROPERTY] }),
      keepSettings: ({ mode, brush }) => {
        this.node.properties ??= {};
        this.node.properties[MODE_PROPERTY] = mode;
        this.node.properties[BRUSH_PROPERTY] = brush;
      },
      fetchImage: () => this.fetchImage(),
      useResult: (index) => this.useResult(index),
    });
    this.unwatchPoints = watchWidget(widget, () => this.editor.syncFromWidget());
    this.onResults = ({ detail }) => this.collectResults(detail);
    api.addEventListener("executed", this.onResults);
  }

  /** Make any image asked for so far stale (another source, an image that came otherwise). */
  _stale() {
    this.request++;
    this.fetching?.stop();
    this.fetching = null;
  }

  /** The /view URL of a saved image `item` ({filename, subfolder?, type?}; `type` when it names none). */
  _viewURL(item, type = "temp") {
    return this.api.apiURL(viewPath(item, type));
  }

  /** Follow the graph: where the image comes from (a LoadImage's file widget, directly or through a Scale
   * Image for Drag, or another node, whose image the canvas waits for) and the downstream FastDragWarp's
   * options. */
  rewire() {
    for (const stop of this.unwatch) stop();
    this.unwatch = [];
    const link = linkOf(this.node.graph, this.node.inputs?.[IMAGE_INPUT]?.link);
    const upstream = link ? this.node.graph.getNodeById(link.origin_id) : null;
    const scaled = isType(upstream, SCALE_NODE);
    const origin = scaled ? upstream.getInputNode?.(0) : upstream;
    const from = upstream ? `${upstream.id}:${link.origin_slot}${scaled ? `<${origin?.id}` : ""}` : null;
    const changed = from !== this.from;
    this.from = from;
    if (changed) this._stale();
    if (scaled) {
      // Another source connected to the scale is another image: follow it as a connection of this node's own.
      const own = upstream.onConnectionsChange;
      upstream.onConnectionsChange = (...args) => {
        own?.apply(upstream, args);
        this.rewire();
      };
      this.unwatch.push(() => {
        upstream.onConnectionsChange = own;
      });
    }
    const file = FILE_NODES.some((type) => isType(origin, type)) && origin.widgets?.find((w) => w.name === "image");
    this.scale = scaled && upstream.mode !== BYPASSED ? upstream : null;
    this.file = file && isType(origin, "LoadImage") ? file : null; // where "Use output" puts a result
    if (file) {
      // A file picked in the LoadImage is a new picture: the editor offers to clear the points kept for the old one.
      this.unwatch.push(watchWidget(file, () => this.showSource(file.value, true)));
      for (const widget of this.scale?.widgets ?? []) this.unwatch.push(watchWidget(widget, () => this.showSource(file.value)));
      this.showSource(file.value);
    } else if (upstream) {
      if (changed) this.awaitUpstream(`The image comes from ${this.upstreamName()}`);
      this.unwatch.push(...watchUpstream(this.node, (node) => this.awaitUpstream(`${node.title || node.type} changed the image`)));
    }
    for (const { node } of downstream(this.node, POINTS_OUTPUT)) {
      const option = node.widgets?.find((w) => w.name === "aggregation");
      if (option) this.unwatch.push(watchWidget(option, () => this.editor.update()));
    }
    this.editor.update();
  }

  /** Show the upstream LoadImage's file as soon as it is picked (before any run); `picked`: the user just
   * picked it (another file than the one shown is then a new picture). */
  showSource(file, picked = false) {
    if (typeof file !== "string" || !file) return;
    const fresh = picked && this.shownFile !== undefined && file !== this.shownFile;
    this.shownFile = file;
    const result = this.usedResult?.file === file ? this.usedResult.number : null;
    this.usedResult = null;
    this.editor.setImage(this._viewURL(imageRef(file)), { fresh, scale: this.scale && scaling(this.scale), result }).catch((e) => this.editor.report(e.message));
  }

  /** A node's images after a run: when the node depends on the points (a result of this edit) and the image
   * comes from a LoadImage, they are offered as "Use output 1 … N". */
  collectResults(detail) {
    const images = detail?.output?.images;
    const node = images?.length && this.node.graph?.getNodeById?.(Number(detail.display_node ?? detail.node));
    if (!node || !this.file || !reachable(this.node, POINTS_OUTPUT, false).has(node)) return;
    this.results = images;
    this.editor.offerResults(images.length);
  }

  /** "Use output N" in one step: result `index` (from 0) uploaded to the input folder and picked in the
   * LoadImage, so that it is the next source; the editor starts afresh on it (setImage's `result`). */
  async useResult(index) {
    const item = this.results[index];
    if (!item || !this.file) return;
    try {
      const value = await uploadResult(this.api, item, `drag_result_${index + 1}.png`);
      const values = this.file.options?.values;
      if (Array.isArray(values) && !values.includes(value)) values.push(value);
      this.usedResult = { file: value, number: index + 1 };
      this.file.value = value;
      this.file.callback?.(value);
    } catch (error) {
      this.editor.report(`could not use output ${index + 1}: ${error.message}`);
    }
  }

  /** Show no image until the upstream's is fetched or a run sends it; `why` starts the notice. */
  awaitUpstream(why) {
    this._stale();
    this.editor.awaitImage({ text: `${why}; fetch it to place points`, label: "Fetch image", action: "fetch" });
  }

  upstreamName() {
    const upstream = this.node.getInputNode?.(IMAGE_INPUT);
    return upstream?.title || upstream?.type || "another node";
  }

  /** "Fetch image": queue only the nodes the image input depends on, with a PreviewImage on it, and show
   * its first image once the server says it ran: the image the node will receive (drag_source is its first
   * too), so points placed on it are in the node's image pixels. ComfyUI keeps those nodes' outputs, so the
   * next full run reuses them. An image after a run, or another source, makes a pending fetch stale. */
  async fetchImage() {
    this._stale();
    const ticket = this.request;
    const stale = () => ticket !== this.request;
    const name = this.upstreamName();
    this.editor.awaitImage({ text: `fetching the image from ${name}…` });
    const history = async (id) => (await (await this.api.fetchApi(`/history/${encodeURIComponent(id)}`)).json())[id];
    const watch = (this.fetching = watchPrompt(this.api, FETCH_PREVIEW, history));
    try {
      const { output, workflow } = await this.app.graphToPrompt();
      const source = output[String(this.node.id)]?.inputs?.image;
      if (!Array.isArray(source)) throw new Error("the node's image input is not part of the prompt (is the node muted?)");
      const { prompt_id: id } = await this.api.queuePrompt(0, { output: upstreamPrompt(output, source, FETCH_PREVIEW), workflow });
      const image = await watch.image(id);
      if (!stale()) await this.editor.setImage(this._viewURL(image));
    } catch (error) {
      if (!stale()) this.editor.awaitImage({ text: `could not fetch the image from ${name}: ${error.message}`, label: "Fetch image", action: "fetch" });
    } finally {
      watch.stop();
      if (this.fetching === watch) this.fetching = null;
    }
  }

  /** After a run: the image the node received, and the connected mask. */
  executed(message) {
    const source = message?.drag_source?.[0];
    if (!source) return;
    this._stale(); // a fetch still running would bring the same image, later
    const mask = message?.drag_mask?.[0];
    this.editor.setImage(this._viewURL(source))
      .then(() => this.editor.setBaseMask(mask ? this._viewURL(mask) : null))
      .catch((e) => this.editor.report(e.message));
  }

  destroy() {
    this._stale();
    this.api.removeEventListener("executed", this.onResults);
    for (const stop of this.unwatch) stop();
    this.unwatchPoints();
    this.editor.destroy();
  }
}
