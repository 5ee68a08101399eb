// The DragPointsEditor node's canvas, bound to the node: place handle -> target pairs and paint the
// editable region on the image, with undo/redo and a preview of FastDragWarp. The node's `points` widget
// holds the document (js/lib/state.js), so it is saved in the workflow and changing it re-runs the node;
// the widget itself is hidden wherever the canvas shows, and the document stays reachable as text through
// the canvas's JSON view and by pasting.
//
// This file is the binding: it creates the editor (js/editor/controller.js, js/editor/view.js) for each
// node, and follows what the node is connected to through widget callbacks and connection changes (the
// upstream LoadImage's file, the downstream FastDragWarp's options), never by polling. The canvas shows
// only the image the node receives: an upstream LoadImage's file at once (through a Scale Image for Drag,
// at the size it gives); an image made by other nodes after a run, or when "Fetch image" runs just the
// nodes it comes from. After a run, the images that the points led to are offered as "use output N". The pure parts (geometry,
// history, brush, preview) live in js/lib and are tested with `node --test js/tests`.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { PointsEditor } from "./editor/controller.js";
import { workingSize } from "./lib/working_size.js";

const NODE = "DragPointsEditor";
const IMAGE_INPUT = 0;
const POINTS_OUTPUT = 1;
const MASK_OUTPUT = 2;
// Nodes whose IMAGE output is their picked file, so that the canvas can show it before any run.
const FILE_NODES = new Set(["LoadImage", "LoadImageOutput"]);
// Scale Image for Drag: between a file node and the editor, the canvas shows the file at the size it gives.
const SCALE_NODE = "DragImageScale";
const BYPASSED = 4; // a node's mode when bypassed: its image passes through unchanged
// The id, in the prompt that "Fetch image" queues, of the PreviewImage added on the editor's image input.
const FETCH_PREVIEW = "drag_points_fetch";
// The node's properties that keep the canvas's tool: saved in the workflow and restored by the graph's
// undo (which rebuilds the node), so neither resets the mode or the brush.
const MODE_PROPERTY = "editor_mode";
const BRUSH_PROPERTY = "brush_size";

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

function savedURL(item) {
  return api.apiURL(`/view?${new URLSearchParams({ filename: item.filename, subfolder: item.subfolder || "", type: item.type || "temp" })}`);
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

/** Call `listener(value)` after `widget`'s own callback whenever the frontend reports a new value;
 * returns the function that stops it. Several listeners share one wrapper around the callback. */
function watchWidget(widget, listener) {
  if (!widget.dragListeners) {
    const listeners = new Set();
    const original = widget.callback;
    widget.callback = function (...args) {
      const result = original?.apply(this, args);
      for (const fn of listeners) fn(widget.value);
      return result;
    };
    widget.dragListeners = listeners;
  }
  widget.dragListeners.add(listener);
  return () => widget.dragListeners.delete(listener);
}

const isType = (node, type) => node?.type === type || node?.comfyClass === type;

/** The part of an API prompt (`output` of app.graphToPrompt) that the input link `source` ([node id,
 * slot]) depends on, with a PreviewImage fed by it under FETCH_PREVIEW. */
function upstreamPrompt(output, source) {
  const prompt = {};
  const visit = (id) => {
    if (prompt[id] || !output[id]) return;
    prompt[id] = output[id];
    for (const value of Object.values(output[id].inputs ?? {})) {
      if (Array.isArray(value) && value.length === 2 && typeof value[1] === "number") visit(String(value[0]));
    }
  };
  visit(String(source[0]));
  prompt[FETCH_PREVIEW] = { class_type: "PreviewImage", inputs: { images: source } };
  return prompt;
}

/** The first image that node `nodeId` of prompt `promptId` saved ({filename, subfolder, type}), read from
 * /history once the prompt has run; null if `stale()` turns true meanwhile. Throws the prompt's error. */
async function promptImage(promptId, nodeId, stale) {
  while (!stale()) {
    const entry = (await (await api.fetchApi(`/history/${encodeURIComponent(promptId)}`)).json())[promptId];
    if (entry?.status?.completed) {
      const image = entry.outputs?.[nodeId]?.images?.[0];
      if (!image) throw new Error("the prompt gave no image");
      return image;
    }
    if (entry?.status?.status_str === "error") {
      const error = entry.status.messages?.find(([type]) => type === "execution_error")?.[1];
      throw new Error(error ? `${error.node_type}: ${error.exception_message}` : "the prompt failed");
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

/** A link of `graph` by id (the frontend keeps them in a plain object or, in later versions, a Map). */
function linkOf(graph, id) {
  return id == null ? undefined : graph?.links?.[id] ?? graph?.links?.get?.(id);
}

/** The neighbours of `n` one link away: up (the nodes its inputs come from) or down (the nodes its
 * outputs feed), through the sockets `sockets` (default: all of them). */
function linked(n, up, sockets = up ? n.inputs : n.outputs) {
  const ids = (sockets ?? []).flatMap((socket) => (up ? [socket?.link] : socket?.links ?? []));
  return ids.map((id) => linkOf(n.graph, id)).filter(Boolean).map((link) => n.graph.getNodeById(up ? link.origin_id : link.target_id)).filter(Boolean);
}

/** Every node reached from `node`'s input `slot` going up (what it depends on), or from its output `slot`
 * going down (what uses it), directly or further. */
function reachable(node, slot, up) {
  const found = new Set();
  const visit = (nodes) => {
    for (const next of nodes) {
      if (found.has(next)) continue;
      found.add(next);
      visit(linked(next, up));
    }
  };
  visit(linked(node, up, [(up ? node.inputs : node.outputs)?.[slot]]));
  return found;
}

/** The nodes the node's output `slot` feeds, with the input slot each is fed on. */
function downstream(node, slot) {
  const graph = node.graph;
  return (node.outputs?.[slot]?.links ?? [])
    .map((id) => linkOf(graph, id))
    .filter(Boolean)
    .map((link) => ({ node: graph.getNodeById(link.target_id), slot: link.target_slot }))
    .filter((entry) => entry.node);
}

/** Put `node`'s canvas where the canvas of a removed node with the same id is still shown. The graph's
 * undo rebuilds every node under its old id, and the Vue node renderer of frontend 1.58 keeps the node's
 * widget component, and with it the removed node's (dead) canvas, instead of mounting the new one. */
function replaceStaleCanvas(node) {
  const element = node.dragEditor?.element;
  if (!element || element.isConnected) return;
  document.querySelector(`.drag-points-editor[data-removed-node="${CSS.escape(String(node.id))}"]`)?.replaceWith(element);
}

/** Record the graph's state as one step of the frontend's own undo. Its change tracker does so on a mouse-up
 * or key-up anywhere, but a canvas gesture sends no mouse-up (its pointer-down is handled and the browser
 * then sends no mouse events), so each canvas command, a paint stroke included, calls it: the graph's Ctrl+Z
 * then takes back one command, not every stroke since the last click elsewhere. */
function graphCheckpoint() {
  const tracker = app.extensionManager?.workflow?.activeWorkflow?.changeTracker;
  (tracker?.captureCanvasState ?? tracker?.checkState)?.call(tracker);
}

/** What a points document says beyond its image size (which the editor stamps on a document without one). */
function pairsAndMask(text) {
  try {
    const { pairs = [], mask = null } = JSON.parse(text || "{}");
    return JSON.stringify([pairs.map((p) => [p.handle, p.target ?? null]), mask]);
  } catch {
    return text;
  }
}

/** What Scale Image for Drag `node` does to an image, as PointsEditor.setImage takes it ({key, size}). */
function scaling(node) {
  const [fit, size, multiple] = ["fit", "size", "multiple_of"].map((name) => node.widgets?.find((w) => w.name === name)?.value);
  return { key: `${fit}|${size}|${multiple}`, size: (width, height) => workingSize(width, height, size, fit, multiple) };
}

/** Keeps one node's editor in step with the graph around it. */
class Binding {
  constructor(node, widget) {
    this.node = node;
    this.widget = widget;
    this.unwatch = [];
    this.from = null; // the image input's source, "node id:slot", as last seen
    this.request = 0; // of the image asked for: a newer request (or another source) makes an older one stale
    this.editor = new PointsEditor({
      read: () => this.widget.value,
      write: (text) => {
        this.widget.value = text;
        this.widget.callback?.(text);
        this.node.setDirtyCanvas?.(true, true);
        graphCheckpoint();
      },
      warpOptions: () => this.warpOptions(),
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
    this.results = [];
    this.onResults = ({ detail }) => this.collectResults(detail);
    api.addEventListener("executed", this.onResults);
  }

  /** The options of the FastDragWarp that the points feed (the first, if several): {warp, aggregation,
   * mask}, see PointsEditor. Without one, the preview assumes a default FastDragWarp fed with this mask. */
  warpOptions() {
    const warp = downstream(this.node, POINTS_OUTPUT).find(({ node }) => isType(node, "FastDragWarp"))?.node;
    if (!warp) return { warp: false, aggregation: "inverse_distance", mask: "editor" };
    const aggregation = warp.widgets?.find((w) => w.name === "aggregation")?.value ?? "inverse_distance";
    const link = linkOf(this.node.graph, warp.inputs?.find((input) => input.name === "mask")?.link);
    const mask = !link ? "none" : link.origin_id === this.node.id && link.origin_slot === MASK_OUTPUT ? "editor" : "other";
    return { warp: true, aggregation, mask };
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
    if (changed) this.request++;
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
    const file = [...FILE_NODES].some((type) => isType(origin, type)) && origin.widgets?.find((w) => w.name === "image");
    this.scale = scaled && upstream.mode !== BYPASSED ? upstream : null;
    this.file = file && isType(origin, "LoadImage") ? file : null; // where "Use output" puts a result
    if (file) {
      // A file picked in the LoadImage is a new picture: the editor offers to clear the points kept for the old one.
      this.unwatch.push(watchWidget(file, () => this.showSource(file.value, true)));
      for (const widget of this.scale?.widgets ?? []) this.unwatch.push(watchWidget(widget, () => this.showSource(file.value)));
      this.showSource(file.value);
    } else if (upstream) {
      if (changed) this.awaitUpstream(`The image comes from ${this.upstreamName()}`);
      // A widget changed upstream (another file, another size): the image shown is no longer the node's. Only
      // a new value counts: the frontend also calls widgets' callbacks while it loads a workflow, and an
      // editor upstream (a sequential edit) stamps a document that has no image size yet with its image's.
      for (const node of reachable(this.node, IMAGE_INPUT, true)) {
        for (const widget of node.widgets ?? []) {
          const meaning = isType(node, NODE) && widget.name === "points" ? pairsAndMask : JSON.stringify;
          let last = meaning(widget.value);
          this.unwatch.push(watchWidget(widget, (value) => {
            if (meaning(value) === last) return;
            last = meaning(value);
            this.awaitUpstream(`${node.title || node.type} changed the image`);
          }));
        }
      }
    }
    for (const { node } of downstream(this.node, POINTS_OUTPUT)) {
      const option = node.widgets?.find((w) => w.name === "aggregation");
      if (option) this.unwatch.push(watchWidget(option, () => this.editor.view.requestDraw()));
    }
    this.editor.view.requestDraw();
  }

  /** Show the upstream LoadImage's file as soon as it is picked (before any run); `picked`: the user just
   * picked it (another file than the one shown is then a new picture). */
  showSource(file, picked = false) {
    if (typeof file !== "string" || !file) return;
    const fresh = picked && this.shownFile !== undefined && file !== this.shownFile;
    this.shownFile = file;
    const result = this.usedResult?.file === file ? this.usedResult.number : null;
    this.usedResult = null;
    this.editor.setImage(viewURL(file), { fresh, scale: this.scale && scaling(this.scale), result }).catch((e) => this.editor.report(e.message));
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
      const blob = await (await api.fetchApi(`/view?${new URLSearchParams({ filename: item.filename, subfolder: item.subfolder || "", type: item.type || "output" })}`)).blob();
      const body = new FormData();
      body.append("image", new File([blob], `drag_result_${index + 1}.png`, { type: blob.type || "image/png" }));
      const response = await api.fetchApi("/upload/image", { method: "POST", body });
      if (response.status !== 200) throw new Error(`the upload failed (HTTP ${response.status})`);
      const { name, subfolder } = await response.json();
      const value = subfolder ? `${subfolder}/${name}` : name;
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
    this.request++;
    this.editor.awaitImage({ text: `${why}; fetch it to place points`, label: "Fetch image", action: "fetch" });
  }

  upstreamName() {
    const upstream = this.node.getInputNode?.(IMAGE_INPUT);
    return upstream?.title || upstream?.type || "another node";
  }

  /** "Fetch image": queue only the nodes the image input depends on, with a PreviewImage on it, and show
   * its first image: the image the node will receive (drag_source is its first too), so points placed
   * on it are in the node's image pixels. ComfyUI keeps those nodes' outputs, so the next full run
   * reuses them. An image after a run, or another source, makes a pending fetch stale. */
  async fetchImage() {
    const ticket = ++this.request;
    const stale = () => ticket !== this.request;
    const name = this.upstreamName();
    this.editor.awaitImage({ text: `fetching the image from ${name}…` });
    try {
      const { output, workflow } = await app.graphToPrompt();
      const source = output[String(this.node.id)]?.inputs?.image;
      if (!Array.isArray(source)) throw new Error("the node's image input is not part of the prompt (is the node muted?)");
      const { prompt_id: id } = await api.queuePrompt(0, { output: upstreamPrompt(output, source), workflow });
      const image = await promptImage(id, FETCH_PREVIEW, stale);
      if (!stale()) await this.editor.setImage(savedURL(image));
    } catch (error) {
      if (!stale()) this.editor.awaitImage({ text: `could not fetch the image from ${name}: ${error.message}`, label: "Fetch image", action: "fetch" });
    }
  }

  /** After a run: the image the node received, and the connected mask. */
  executed(message) {
    const source = message?.drag_source?.[0];
    if (!source) return;
    this.request++; // a fetch still running would bring the same image, later
    const mask = message?.drag_mask?.[0];
    this.editor.setImage(savedURL(source))
      .then(() => this.editor.setBaseMask(mask ? savedURL(mask) : null))
      .catch((e) => this.editor.report(e.message));
  }

  destroy() {
    this.request++;
    api.removeEventListener("executed", this.onResults);
    for (const stop of this.unwatch) stop();
    this.unwatchPoints();
    this.editor.destroy();
  }
}

app.registerExtension({
  name: "drag_editing.points_editor",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name !== NODE) return;
    const chain = (name, after) => {
      const own = nodeType.prototype[name];
      nodeType.prototype[name] = function (...args) {
        const result = own?.apply(this, args);
        after.apply(this, args);
        return result;
      };
    };
    chain("onNodeCreated", function () {
      const widget = this.widgets.find((w) => w.name === "points");
      hideTextWidget(widget);
      this.dragBinding = new Binding(this, widget);
      this.dragEditor = this.dragBinding.editor;
      // hideOnZoom: false keeps the canvas drawn when the graph is zoomed out (the frontend hides DOM
      // widgets there by default), as LoadImage's preview stays.
      this.addDOMWidget("canvas", "drag_points_canvas", this.dragEditor.element, { serialize: false, hideOnZoom: false, getMinHeight: () => 300 });
      this.setSize([Math.max(this.size[0], 380), Math.max(this.size[1], 520)]);
    });
    chain("onConnectionsChange", function () {
      this.dragBinding?.rewire();
    });
    chain("onConfigure", function () {
      // A loaded workflow (or the graph's undo) restores the document exactly, and the tool.
      replaceStaleCanvas(this);
      this.dragEditor?.applySettings();
      this.dragEditor?.syncFromWidget();
    });
    chain("onAfterGraphConfigured", function () {
      this.dragBinding?.rewire();
    });
    chain("onExecuted", function (message) {
      this.dragBinding?.executed(message);
    });
    chain("onRemoved", function () {
      this.dragBinding?.destroy();
      this.dragBinding = null;
      this.dragEditor.element.dataset.removedNode = String(this.id); // see replaceStaleCanvas
    });
  },
});
