// The DragPointsEditor node's canvas, bound to the node: place handle -> target pairs and paint the
// editable region on the image, with undo/redo and a preview of FastDragWarp. The node's `points` widget
// holds the document (js/lib/state.js), so it is saved in the workflow and changing it re-runs the node;
// the widget itself is hidden wherever the canvas shows, and the document stays reachable as text through
// the canvas's JSON view and by pasting.
//
// This file is the binding: it creates the editor (js/editor/controller.js, js/editor/view.js) for each
// node, and follows what the node is connected to through widget callbacks and connection changes (the
// upstream LoadImage's file, the downstream FastDragWarp's options), never by polling. The pure parts
// (geometry, history, brush, preview) live in js/lib and are tested with `node --test js/tests`.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { PointsEditor } from "./editor/controller.js";

const NODE = "DragPointsEditor";
const IMAGE_INPUT = 0;
const POINTS_OUTPUT = 1;
const MASK_OUTPUT = 2;
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

/** A link of `graph` by id (the frontend keeps them in a plain object or, in later versions, a Map). */
function linkOf(graph, id) {
  return id == null ? undefined : graph?.links?.[id] ?? graph?.links?.get?.(id);
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

/** Keeps one node's editor in step with the graph around it. */
class Binding {
  constructor(node, widget) {
    this.node = node;
    this.widget = widget;
    this.unwatch = [];
    this.editor = new PointsEditor({
      read: () => this.widget.value,
      write: (text) => {
        this.widget.value = text;
        this.widget.callback?.(text);
        this.node.setDirtyCanvas?.(true, true);
      },
      warpOptions: () => this.warpOptions(),
      settings: () => ({ mode: this.node.properties?.[MODE_PROPERTY], brush: this.node.properties?.[BRUSH_PROPERTY] }),
      keepSettings: ({ mode, brush }) => {
        this.node.properties ??= {};
        this.node.properties[MODE_PROPERTY] = mode;
        this.node.properties[BRUSH_PROPERTY] = brush;
      },
    });
    this.unwatchPoints = watchWidget(widget, () => this.editor.syncFromWidget());
  }

  /** The options of the FastDragWarp that the points feed (the first, if several): {warp, aggregation,
   * mask}, see PointsEditor. Without one, the preview assumes a default FastDragWarp fed with this mask. */
  warpOptions() {
    const warp = downstream(this.node, POINTS_OUTPUT).find(({ node }) => node.type === "FastDragWarp" || node.comfyClass === "FastDragWarp")?.node;
    if (!warp) return { warp: false, aggregation: "inverse_distance", mask: "editor" };
    const aggregation = warp.widgets?.find((w) => w.name === "aggregation")?.value ?? "inverse_distance";
    const link = linkOf(this.node.graph, warp.inputs?.find((input) => input.name === "mask")?.link);
    const mask = !link ? "none" : link.origin_id === this.node.id && link.origin_slot === MASK_OUTPUT ? "editor" : "other";
    return { warp: true, aggregation, mask };
  }

  /** Follow the graph: the upstream image widget and the downstream FastDragWarp's options. */
  rewire() {
    for (const stop of this.unwatch) stop();
    this.unwatch = [];
    const upstream = this.node.getInputNode?.(IMAGE_INPUT);
    const file = upstream?.widgets?.find((w) => w.name === "image");
    if (file) {
      this.unwatch.push(watchWidget(file, () => this.showSource(file.value)));
      this.showSource(file.value);
    }
    for (const { node } of downstream(this.node, POINTS_OUTPUT)) {
      const option = node.widgets?.find((w) => w.name === "aggregation");
      if (option) this.unwatch.push(watchWidget(option, () => this.editor.view.requestDraw()));
    }
    this.editor.view.requestDraw();
  }

  /** Show the upstream LoadImage's file as soon as it is picked (before any run). */
  showSource(file) {
    if (typeof file !== "string" || !file) return;
    this.editor.setImage(viewURL(file)).catch((e) => this.editor.report(e.message));
  }

  /** After a run: the image the node received, and the connected mask. */
  executed(message) {
    const source = message?.drag_source?.[0];
    if (!source) return;
    const mask = message?.drag_mask?.[0];
    this.editor.setImage(savedURL(source))
      .then(() => this.editor.setBaseMask(mask ? savedURL(mask) : null))
      .catch((e) => this.editor.report(e.message));
  }

  destroy() {
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
