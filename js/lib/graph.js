// Reading the graph around a node, as the frontend's LiteGraph keeps it: nodes with `inputs` ({link}),
// `outputs` ({links}), `widgets` ({name, value, callback}), `type` or `comfyClass`, and a `graph` whose
// links (a plain object or, in later frontends, a Map, by id) are {origin_id, origin_slot, target_id,
// target_slot} and whose getNodeById(id) finds a node. Nothing here changes the graph.

export const isType = (node, type) => node?.type === type || node?.comfyClass === type;

/** A link of `graph` by id (undefined for no id or an unknown one). */
export function linkOf(graph, id) {
  return id == null ? undefined : graph?.links?.[id] ?? graph?.links?.get?.(id);
}

/** The neighbours of `node` one link away: up (the nodes its inputs come from) or down (the nodes its
 * outputs feed), through the sockets `sockets` (default: all of them). */
function linked(node, up, sockets = up ? node.inputs : node.outputs) {
  const graph = node.graph;
  const ids = (sockets ?? []).flatMap((socket) => (up ? [socket?.link] : socket?.links ?? []));
  return ids.map((id) => linkOf(graph, id)).filter(Boolean).map((link) => graph.getNodeById(up ? link.origin_id : link.target_id)).filter(Boolean);
}

/** Every node reached from `node`'s input `slot` going up (what it depends on), or from its output `slot`
 * going down (what uses it), directly or further. */
export function reachable(node, slot, up) {
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

/** The nodes the node's output `slot` feeds, with the input slot each is fed on: [{node, slot}]. */
export function downstream(node, slot) {
  const graph = node.graph;
  return (node.outputs?.[slot]?.links ?? [])
    .map((id) => linkOf(graph, id))
    .filter(Boolean)
    .map((link) => ({ node: graph.getNodeById(link.target_id), slot: link.target_slot }))
    .filter((entry) => entry.node);
}

/**
 * The options of the first FastDragWarp that `node`'s output `pointsSlot` feeds: {warp, aggregation, mask}
 * (warp: whether there is one; mask: "editor" when its mask input is `node`'s output `maskSlot`, "none"
 * without a mask, "other" when it comes from another node). Without one: a default FastDragWarp fed with
 * the node's mask.
 */
export function warpOptions(node, pointsSlot, maskSlot) {
  const warp = downstream(node, pointsSlot).find((entry) => isType(entry.node, "FastDragWarp"))?.node;
  if (!warp) return { warp: false, aggregation: "inverse_distance", mask: "editor" };
  const aggregation = warp.widgets?.find((w) => w.name === "aggregation")?.value ?? "inverse_distance";
  const link = linkOf(node.graph, warp.inputs?.find((input) => input.name === "mask")?.link);
  const mask = !link ? "none" : link.origin_id === node.id && link.origin_slot === maskSlot ? "editor" : "other";
  return { warp: true, aggregation, mask };
}

/** The part of an API prompt (`output` of app.graphToPrompt: {id: {class_type, inputs}}) that the input
 * link `source` ([node id, slot]) depends on, with a PreviewImage fed by it under the id `preview`. */
export function upstreamPrompt(output, source, preview) {
  const prompt = {};
  const visit = (id) => {
    if (prompt[id] || !output[id]) return;
    prompt[id] = output[id];
    for (const value of Object.values(output[id].inputs ?? {})) {
      if (Array.isArray(value) && value.length === 2 && typeof value[1] === "number") visit(String(value[0]));
    }
  };
  visit(String(source[0]));
  prompt[preview] = { class_type: "PreviewImage", inputs: { images: source } };
  return prompt;
}

/** The /view query of the image a LoadImage-like widget names ("sub/name.png [input]"): {filename,
 * subfolder, type}, type "input" when the value names none. */
export function imageRef(value) {
  const match = /^(.*?)(?: \[(\w+)\])?$/.exec(value);
  const path = match[1];
  const slash = path.lastIndexOf("/");
  return { filename: path.slice(slash + 1), subfolder: slash >= 0 ? path.slice(0, slash) : "", type: match[2] || "input" };
}

/** What a points document says beyond its image size (which an editor stamps on a document without one),
 * as a string to compare; a text that is no JSON is itself. */
export function pairsAndMask(text) {
  try {
    const { pairs = [], mask = null } = JSON.parse(text || "{}");
    return JSON.stringify([pairs.map((p) => [p.handle, p.target ?? null]), mask]);
  } catch {
    return text;
  }
}

/** Call `listener(value)` after `widget`'s own callback whenever the frontend reports a new value;
 * returns the function that stops it. Several listeners share one wrapper around the callback. */
export function watchWidget(widget, listener) {
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
