// Waiting for a queued prompt's image on the server's execution events, as the frontend's `api` dispatches
// them (an EventTarget whose events carry the server's message data in `detail`): `executed` {node,
// display_node, output, prompt_id}, `execution_success`, `execution_error` {prompt_id, node_type,
// exception_message} and `execution_interrupted` {prompt_id}, sent in that order on one socket; and
// `reconnected`: the socket was lost, so some may have been missed.

const EVENTS = ["executed", "execution_success", "execution_error", "execution_interrupted", "reconnected"];

/** What the /history entry of a prompt (or undefined) says of node `nodeId`'s first image: {image}
 * ({filename, subfolder, type}) once the prompt completed, {error} when it failed or completed without
 * one, null while it has not ended. */
export function historyOutcome(entry, nodeId) {
  if (entry?.status?.completed) {
    const image = entry.outputs?.[nodeId]?.images?.[0];
    return image ? { image } : { error: "the prompt gave no image" };
  }
  if (entry?.status?.status_str === "error") {
    const error = entry.status.messages?.find(([type]) => type === "execution_error")?.[1];
    return { error: error ? `${error.node_type}: ${error.exception_message}` : "the prompt failed" };
  }
  return null;
}

/**
 * Listen for the first image that node `nodeId` of a prompt shows. Call it before queueing the prompt: a
 * prompt whose nodes are all cached can end before the queue request returns, so events come before its
 * id is known and are kept until then. `history(promptId)` -> Promise of the prompt's /history entry, read
 * after a reconnect (the prompt may have ended meanwhile).
 *
 * Returns {image(promptId), stop()}: image resolves with the first image ({filename, subfolder, type}),
 * rejects with the prompt's error (or when it succeeded without one), and resolves null once stop() was
 * called (a newer request made it stale). Either way the listeners are removed.
 */
export function watchPrompt(events, nodeId, history) {
  const early = []; // [type, data] of the events before the prompt's id is known
  let waiting = null; // {id, resolve, reject}
  let ended = null; // the outcome, once there is one: {image} | {error} | {stopped}
  const finish = (outcome) => {
    if (ended) return;
    ended = outcome;
    for (const type of EVENTS) events.removeEventListener(type, listener);
    if (waiting) settle();
  };
  const settle = () => {
    if (ended.error) waiting.reject(new Error(ended.error));
    else waiting.resolve(ended.image ?? null);
  };
  const recheck = async (id) => {
    try {
      const outcome = historyOutcome(await history(id), nodeId);
      if (outcome) finish(outcome);
    } catch (error) {
      finish({ error: error.message });
    }
  };
  const handle = (type, data) => {
    if (type === "reconnected") return void recheck(waiting.id);
    if (data?.prompt_id !== waiting.id) return;
    const image = type === "executed" && (data.display_node ?? data.node) === nodeId ? data.output?.images?.[0] : null;
    if (image) finish({ image });
    else if (type === "execution_success") finish({ error: "the prompt gave no image" });
    else if (type === "execution_error") finish({ error: `${data.node_type}: ${data.exception_message}` });
    else if (type === "execution_interrupted") finish({ error: "the prompt was interrupted" });
  };
  function listener(event) {
    if (waiting) handle(event.type, event.detail);
    else early.push([event.type, event.detail]);
  }
  for (const type of EVENTS) events.addEventListener(type, listener);
  return {
    image(promptId) {
      return new Promise((resolve, reject) => {
        waiting = { id: promptId, resolve, reject };
        if (ended) return settle();
        for (const [type, data] of early.splice(0)) if (!ended) handle(type, data);
      });
    },
    stop: () => finish({ stopped: true }),
  };
}
