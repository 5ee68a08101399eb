import assert from "node:assert/strict";
import { test } from "node:test";

import { historyOutcome, watchPrompt } from "../lib/prompt_events.js";

const NODE = "drag_points_fetch";
const IMAGE = { filename: "a.png", subfolder: "", type: "temp" };
const send = (events, type, detail) => events.dispatchEvent(new CustomEvent(type, { detail }));
const noHistory = async () => undefined;
const listeners = (events) => events.count;

/** An EventTarget that counts its listeners, as the frontend's api is one. */
class Events extends EventTarget {
  count = 0;
  addEventListener(...args) { this.count++; super.addEventListener(...args); }
  removeEventListener(...args) { this.count--; super.removeEventListener(...args); }
}

test("the node's image arrives with its executed event; other prompts and nodes are not it", async () => {
  const events = new Events();
  const watch = watchPrompt(events, NODE, noHistory);
  const image = watch.image("p1");
  send(events, "executed", { prompt_id: "p0", node: NODE, output: { images: [{ filename: "other.png" }] } });
  send(events, "executed", { prompt_id: "p1", node: "7", output: { images: [{ filename: "seven.png" }] } });
  send(events, "executed", { prompt_id: "p1", node: NODE, display_node: NODE, output: { images: [IMAGE] } });
  assert.deepEqual(await image, IMAGE);
  assert.equal(listeners(events), 0, "it stops listening once it has the image");
});

test("events that come before the prompt's id is known are kept (a prompt of cached nodes ends at once)", async () => {
  const events = new Events();
  const watch = watchPrompt(events, NODE, noHistory);
  send(events, "executed", { prompt_id: "p1", node: NODE, output: { images: [IMAGE] } });
  send(events, "execution_success", { prompt_id: "p1" });
  assert.deepEqual(await watch.image("p1"), IMAGE);
});

test("the prompt's error, an interrupt, or success without the image reject with what happened", async () => {
  const cases = [
    ["execution_error", { prompt_id: "p1", node_type: "LoadImage", exception_message: "Invalid image file" }, "LoadImage: Invalid image file"],
    ["execution_interrupted", { prompt_id: "p1" }, "the prompt was interrupted"],
    ["execution_success", { prompt_id: "p1" }, "the prompt gave no image"],
  ];
  for (const [type, detail, message] of cases) {
    const events = new Events();
    const watch = watchPrompt(events, NODE, noHistory);
    const image = watch.image("p1");
    send(events, type, { ...detail, prompt_id: "p0" }); // another prompt's end
    send(events, type, detail);
    await assert.rejects(image, { message });
    assert.equal(listeners(events), 0);
  }
});

test("stop() makes the wait resolve null, before or after the id is known", async () => {
  const events = new Events();
  const watch = watchPrompt(events, NODE, noHistory);
  const image = watch.image("p1");
  watch.stop();
  assert.equal(await image, null);
  assert.equal(listeners(events), 0);
  const early = watchPrompt(events, NODE, noHistory);
  early.stop();
  assert.equal(await early.image("p2"), null);
  send(events, "executed", { prompt_id: "p2", node: NODE, output: { images: [IMAGE] } });
});

test("after a reconnect the prompt's history says whether it ended meanwhile", async () => {
  const events = new Events();
  const entries = {};
  const asked = [];
  const watch = watchPrompt(events, NODE, async (id) => { asked.push(id); return entries[id]; });
  const image = watch.image("p1");
  send(events, "reconnected");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(asked, ["p1"]);
  assert.equal(listeners(events) > 0, true, "still running: it keeps listening");
  entries.p1 = { status: { completed: true }, outputs: { [NODE]: { images: [IMAGE] } } };
  send(events, "reconnected");
  assert.deepEqual(await image, IMAGE);
});

test("a history that cannot be read ends the wait with its error", async () => {
  const events = new Events();
  const watch = watchPrompt(events, NODE, async () => { throw new Error("HTTP 500"); });
  const image = watch.image("p1");
  send(events, "reconnected");
  await assert.rejects(image, { message: "HTTP 500" });
});

test("a history entry: the image once completed, the error once failed, null while it runs", () => {
  assert.equal(historyOutcome(undefined, NODE), null);
  assert.equal(historyOutcome({ status: { completed: false, status_str: "success" } }, NODE), null);
  assert.deepEqual(historyOutcome({ status: { completed: true }, outputs: { [NODE]: { images: [IMAGE] } } }, NODE), { image: IMAGE });
  assert.deepEqual(historyOutcome({ status: { completed: true }, outputs: {} }, NODE), { error: "the prompt gave no image" });
  const messages = [["execution_start", {}], ["execution_error", { node_type: "VAEDecode", exception_message: "out of memory" }]];
  assert.deepEqual(historyOutcome({ status: { status_str: "error", messages } }, NODE), { error: "VAEDecode: out of memory" });
  assert.deepEqual(historyOutcome({ status: { status_str: "error", messages: [] } }, NODE), { error: "the prompt failed" });
});
