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

/** The nodes the node's output `slot` feeds, with the input slot each is fed on. */
function downstream(node, slot) {
  const graph = node.graph;
  return (node.outputs?.[slot]?.links ?? [])
    .map((id) => graph?.links?.[id] ?? graph?.links?.get?.(id))
    .filter(Boolean)
    .map((link) => ({ node: graph.getNodeById(link.target_id), slot: link.target_slot }))
    .filter((entry) => entry.node);
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
    });
    this.unwatchPoints = watchWidget(widget, () => this.editor.syncFromWidget());
  }

  /** The options of the FastDragWarp that the points feed (the first, if several). */
  warpOptions() {
    const warp = downstream(this.node, POINTS_OUTPUT).find(({ node }) => node.type === "FastDragWarp" || node.comfyClass === "FastDragWarp")?.node;
    if (!warp) return { aggregation: "inverse_distance", masked: true };
    const aggregation = warp.widgets?.find((w) => w.name === "aggregation")?.value ?? "inverse_distance";
    const mask = warp.inputs?.find((input) => input.name === "mask");
    return { aggregation, masked: mask?.link != null }; // without a mask input FastDragWarp moves the whole image
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
    this.editor.setImage(viewURL(file)).catch((e) => { this.editor.status.textContent = e.message; });
  }

  /** After a run: the image the node received, and the connected mask. */
  executed(message) {
    const source = message?.drag_source?.[0];
    if (!source) return;
    const mask = message?.drag_mask?.[0];
    this.editor.setImage(savedURL(source))
      .then(() => this.editor.setBaseMask(mask ? savedURL(mask) : null))
      .catch((e) => { this.editor.status.textContent = e.message; });
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
      this.addDOMWidget("canvas", "drag_points_canvas", this.dragEditor.element, { serialize: false, getMinHeight: () => 300 });
      this.setSize([Math.max(this.size[0], 380), Math.max(this.size[1], 520)]);
    });
    chain("onConnectionsChange", function () {
      this.dragBinding?.rewire();
    });
    chain("onConfigure", function () {
      this.dragEditor?.syncFromWidget(); // a loaded workflow restores the document exactly
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
    });
  },
});
