// The DragPointsEditor node's canvas: place handle -> target pairs and paint the editable region on the
// image, with undo/redo and a preview of FastDragWarp. The node's `points` widget holds the document
// (js/lib/state.js), so it is saved in the workflow and changing it re-runs the node; the widget itself is
// hidden wherever the canvas shows, and the document stays reachable as text through the canvas's JSON
// view and by pasting.
//
// This file registers the extension: for each node it creates the graph binding (js/editor/graph_binding.js),
// which creates the editor (js/editor/controller.js: the document, the image source, the gestures and the
// view) and keeps it in step with the graph. The pure parts (geometry, history, brush, preview, the scene
// drawn, the graph walks, the prompt's events) live in js/lib and are tested with `node --test js/tests`.

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { Binding, NODE } from "./editor/graph_binding.js";

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
      this.dragBinding = new Binding(this, widget, { app, api, checkpoint: graphCheckpoint });
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
