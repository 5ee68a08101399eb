// Browser test of the points editor canvas against a running ComfyUI with this pack (real frontend).
// Usage: node tests/browser/points_editor.mjs SERVER_URL IMAGE_NAME ARTIFACTS_DIR [litegraph|vue]
// IMAGE_NAME is a 256x192 image in ComfyUI's input folder; beside it, with "_alpha" before ".png", the
// same size with transparency, whose LoadImage MASK is connected later, and with "_portrait", the
// same content at 192x256, picked to check the rescale notice. The last argument picks the node renderer
// (the classic litegraph canvas, or the frontend's Vue-rendered "Nodes 2.0"). Exits non-zero on the
// first failed check; screenshots go to ARTIFACTS_DIR. Each queued prompt is followed by the id that
// /prompt returned for it, never by "the latest" history entry.
// Run by tests/integration/test_points_editor_browser.py.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { chromium } from "playwright-core";

import { pairMarks } from "../../js/lib/marks.js";
import { circleInImage, handlesOutside, latentCircle, pointToLatent } from "../../js/lib/warp_preview.js";
import { openComfy } from "./comfy_page.mjs";

const [url, imageName, artifacts, renderer = "litegraph"] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
const errors = [];
// Errors thrown by this pack's frontend code (the frontend's own occasional errors are not ours to test).
page.on("pageerror", (e) => { if (/\/extensions\/[^/]+\/(drag_points_editor|editor\/\w+|lib\/\w+)\.js/.test(e.stack ?? "")) errors.push(`${e}\n${e.stack}`); });

/** A screenshot of the canvas, or with `whole` of the whole editor (toolbar and status line too). */
async function shot(name, whole = false) {
  const box = await page.evaluate((all) => {
    const editor = window.__dragEditorNode.dragEditor;
    const r = (all ? editor.element : editor.canvas).getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  }, whole);
  await page.screenshot({ path: join(artifacts, `${name}.png`), clip: box });
}

/** Page coordinates of image point [x, y] on the editor's canvas. */
async function at(point) {
  return page.evaluate((p) => window.__dragEditorNode.dragEditor.clientPoint(p), point);
}

/** Canvas (layout) coordinates of image point [x, y], with the badge radius of the marks. */
async function onCanvas(point) {
  return page.evaluate(([x, y]) => {
    const editor = window.__dragEditorNode.dragEditor;
    const view = editor.placement();
    return { point: [x * view.scale + view.offsetX, y * view.scale + view.offsetY], radius: editor.view.markRadius(editor.state.width, editor.state.height) };
  }, point);
}

/** The colour [r, g, b] the editor's canvas shows at canvas (layout) point [x, y]. */
async function pixel(point) {
  return page.evaluate(([x, y]) => {
    const canvas = window.__dragEditorNode.dragEditor.canvas;
    const k = canvas.width / canvas.clientWidth;
    return Array.from(canvas.getContext("2d").getImageData(Math.floor(x * k), Math.floor(y * k), 1, 1).data.slice(0, 3));
  }, point);
}

const WARNING = [0xff, 0xb2, 0x24];
const HANDLE = [0xe5, 0x48, 0x4d];
const TARGET = [0x3e, 0x9b, 0xff];
const like = (colour, expected, tolerance = 40) => colour.every((c, i) => Math.abs(c - expected[i]) <= tolerance);

const statusOf = () => page.evaluate(() => {
  const editor = window.__dragEditorNode.dragEditor;
  const notice = editor.element.querySelector(".drag-notice");
  return {
    line: editor.status.textContent,
    notice: getComputedStyle(notice).display === "none" ? null
      : [notice.firstChild.textContent, ...[...notice.querySelectorAll("button")].filter((b) => b.style.display !== "none").map((b) => b.textContent)],
    readout: editor.element.querySelector(".drag-readout").textContent,
    brush: editor.element.querySelector(".drag-brush-size").textContent,
  };
});

/** Where the browser shows rows of the editor's canvas: paints three one-pixel red rows into the backing
 * store (the editor's drawing held meanwhile), finds each in a screenshot (its centre, from the red in one
 * column) and returns [{row, shownAt, mappedTo}]: the client y of the row's centre as shown, and as the
 * editor maps it (view.toClient, the inverse of the pointer's mapping). */
async function rowsShown() {
  const rows = await page.evaluate(() => {
    const { view, canvas } = window.__dragEditorNode.dragEditor;
    view.draw = () => {};
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#ff0000";
    const rows = [2, Math.round(canvas.height / 2), canvas.height - 3];
    for (const row of rows) ctx.fillRect(0, row, canvas.width, 1);
    const rect = canvas.getBoundingClientRect();
    const [, h] = view.size;
    return { x: Math.floor(rect.left + rect.width / 2), top: Math.floor(rect.top) - 4, bottom: Math.ceil(rect.bottom) + 4,
      rows: rows.map((row) => ({ row, mappedTo: view.toClient([0, ((row + 0.5) * h) / canvas.height])[1] })) };
  });
  await drawn();
  const png = await page.screenshot({ clip: { x: rows.x, y: rows.top, width: 1, height: rows.bottom - rows.top } });
  const redness = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement("canvas");
    [c.width, c.height] = [img.width, img.height];
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const { data } = ctx.getImageData(0, 0, 1, img.height);
    return Array.from({ length: img.height }, (_, y) => Math.max(0, data[4 * y] - data[4 * y + 1]));
  }, png.toString("base64"));
  await page.evaluate(() => {
    const editor = window.__dragEditorNode.dragEditor;
    delete editor.view.draw; // the prototype's again
    editor.view.requestDraw();
  });
  // Each red row is the run of reddened screen rows nearest where it is mapped; its centre weighs them.
  return rows.rows.map(({ row, mappedTo }) => {
    let [weight, sum] = [0, 0];
    redness.forEach((r, y) => {
      const centre = rows.top + y + 0.5;
      if (r > 20 && Math.abs(centre - mappedTo) < 3) [weight, sum] = [weight + r, sum + r * centre];
    });
    return { row, mappedTo, shownAt: weight ? sum / weight : NaN };
  });
}

/** Wait for the next two frames, so that what was asked to be drawn has been drawn. */
const drawn = () => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));

async function click(point, button = "left") {
  const [x, y] = await at(point);
  await page.mouse.click(x, y, { button });
  await page.waitForTimeout(80); // at a person's pace: separate clicks, not a double click
}

async function drag(from, to, steps = 8) {
  const [x0, y0] = await at(from);
  const [x1, y1] = await at(to);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move(x1, y1, { steps });
  await page.mouse.up();
  await page.waitForTimeout(80);
}

async function run() {
  return page.evaluate(async () => {
    const { app } = window;
    const api = app.api ?? (await import("/scripts/api.js")).api;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    if (!api.__dragTestTracked) {  // remember the id of every prompt this page queues
      const queue = api.queuePrompt.bind(api);
      window.__dragTestPromptIds = [];
      api.queuePrompt = async (...args) => {
        const response = await queue(...args);
        if (response?.prompt_id) window.__dragTestPromptIds.push(response.prompt_id);
        return response;
      };
      api.__dragTestTracked = true;
    }
    const before = window.__dragTestPromptIds.length;
    await app.queuePrompt(0, 1);
    for (let i = 0; i < 200 && window.__dragTestPromptIds.length === before; i++) await sleep(50);
    const id = window.__dragTestPromptIds[before];
    if (!id) throw new Error("the frontend queued no prompt");
    for (let i = 0; i < 6000; i++) {
      const entry = (await (await api.fetchApi(`/history/${id}`)).json())[id];
      if (entry?.status?.completed || entry?.status?.status_str === "error") return entry;
      await sleep(200);
    }
    throw new Error(`prompt ${id} did not finish`);
  });
}

/** What the page shows of the editor: the canvas, and any text box (the points widget must not be one). */
async function shownWidgets() {
  return page.evaluate(() => {
    const node = window.__dragEditorNode;
    const visible = (el) => Boolean(el?.isConnected) && el.getBoundingClientRect().height > 0 && getComputedStyle(el).display !== "none" && getComputedStyle(el).visibility !== "hidden";
    const textBoxes = [...document.querySelectorAll("textarea")].filter((t) => visible(t) && !t.classList.contains("drag-points-json"));
    return {
      frontend: window.__COMFYUI_FRONTEND_VERSION__,
      canvas: visible(node.dragEditor.element),
      textBoxes: textBoxes.length,
      pointsWidget: node.widgets.some((w) => w.name === "points"),
    };
  });
}
async function imageOf(entry, prefix) {
  const item = Object.values(entry.outputs).flatMap((o) => o.images || []).find((i) => i.filename.startsWith(prefix));
  return page.evaluate(async (it) => {
    const img = new Image();
    img.src = `/view?${new URLSearchParams({ filename: it.filename, subfolder: it.subfolder, type: it.type })}`;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    return Array.from({ length: c.width * c.height }, (_, i) => (data[4 * i] > 127 ? 1 : 0));
  }, item);
}

const documentOf = () => page.evaluate(() => JSON.parse(window.__dragEditorNode.widgets.find((w) => w.name === "points").value));
const close = (a, b, tolerance = 1.5) => Math.abs(a - b) <= tolerance;

/** LoadImage -> ImageScale (to 128x96) -> DragPointsEditor -> FastDragWarp: the canvas shows no image and
 * takes no points until "Fetch image" runs the upstream (or again after a change upstream); without pairs
 * a run fails once, on the editor. */
async function imageThroughOtherNodes(name) {
  const scaleTitle = await page.evaluate((file) => {
    const { app, LiteGraph } = window;
    const g = app.graph;
    g.clear();
    const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; g.add(n); return n; };
    const load = add("LoadImage", [20, 40]);
    load.widgets.find((w) => w.name === "image").value = file;
    const scale = add("ImageScale", [20, 420]);
    scale.widgets.find((w) => w.name === "width").value = 128;
    scale.widgets.find((w) => w.name === "height").value = 96;
    load.connect(0, scale, 0);
    const editor = add("DragPointsEditor", [330, 40]);
    editor.setSize([520, 620]);
    scale.connect(0, editor, 0);
    const latent = add("EmptyLatentImage", [900, 40]);
    latent.widgets.find((w) => w.name === "width").value = 128;
    latent.widgets.find((w) => w.name === "height").value = 96;
    const warp = add("FastDragWarp", [900, 260]);
    latent.connect(0, warp, 0);
    editor.connect(1, warp, 1);
    const toImage = add("MaskToImage", [1150, 260]);
    warp.connect(1, toImage, 0);
    const save = add("SaveImage", [1350, 260]);
    save.widgets.find((w) => w.name === "filename_prefix").value = "scaled_holes";
    toImage.connect(0, save, 0);
    window.__dragEditorNode = editor;
    g.setDirtyCanvas(true, true);
    return scale.title;
  }, name);
  await page.waitForTimeout(500);
  await drawn();
  const notice = [`The image comes from ${scaleTitle}; fetch it to place points`, "Fetch image"];
  assert.deepEqual((await statusOf()).notice, notice, "the canvas names the node the image comes from");
  // On a narrow node the canvas's message wraps (its second line drawn) and nothing reaches its right edge.
  await page.evaluate(() => {
    window.__dragEditorNode.setSize([300, 560]);
    window.app.graph.setDirtyCanvas(true, true);
  });
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor.canvas.clientWidth < 300, null, { timeout: 10000 });
  await page.waitForTimeout(300);
  await drawn();
  const message = await page.evaluate(() => {
    const canvas = window.__dragEditorNode.dragEditor.canvas;
    const ratio = canvas.width / canvas.clientWidth;
    const inked = (x0, y0, x1, y1) => {
      const { data } = canvas.getContext("2d").getImageData(x0 * ratio, y0 * ratio, (x1 - x0) * ratio, (y1 - y0) * ratio);
      return data.some((v, i) => i % 4 === 3 && v > 0);
    };
    const w = canvas.clientWidth;
    return { width: w, secondLine: inked(0, 26, w, 40), rightEdge: inked(w - 6, 0, w, 80) };
  });
  assert.ok(message.secondLine && !message.rightEdge, `the message wraps inside the canvas: ${JSON.stringify(message)}`);
  await page.evaluate(() => {
    window.__dragEditorNode.setSize([520, 620]);
    window.app.graph.setDirtyCanvas(true, true);
  });
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__dragEditorNode.dragEditor.image), null, "no LoadImage file is shown");
  const centre = await page.evaluate(() => {
    const r = window.__dragEditorNode.dragEditor.canvas.getBoundingClientRect();
    return [r.x + r.width / 2, r.y + r.height / 2];
  });
  await page.mouse.click(...centre);
  await page.waitForTimeout(80);
  assert.deepEqual((await documentOf()).pairs, [], "no point is placed before the image is known");
  await shot("6_image_from_imagescale", true);

  // Without pairs: one execution error, on the DragPointsEditor, saying so (not one per blocked node).
  const failed = await run();
  assert.equal(failed.status.status_str, "error", JSON.stringify(failed.status));
  const editorId = await page.evaluate(() => String(window.__dragEditorNode.id));
  const failures = failed.status.messages.filter(([type]) => type === "execution_error").map(([, m]) => m);
  assert.equal(failures.length, 1, JSON.stringify(failed.status.messages));
  assert.equal(String(failures[0].node_id), editorId);
  assert.equal(failures[0].node_type, "DragPointsEditor");
  assert.match(failures[0].exception_message, /^points: no drag pairs/);
  assert.deepEqual((await statusOf()).notice, notice, "a failed run brings no image");
  await page.keyboard.press("Escape"); // close the frontend's error dialog, where it opens one
  await page.waitForTimeout(300);

  // "Fetch image" runs the upstream and shows the image the node receives, at the scaled size, once the
  // server's events say it ran: no reading of the prompt's history.
  const historyReads = [];
  const countHistory = (request) => { if (/\/history\/[0-9a-f-]{36}/.test(request.url())) historyReads.push(request.url()); };
  page.on("request", countHistory);
  await page.click(".drag-notice button");
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor.image, null, { timeout: 120000 });
  page.off("request", countHistory);
  assert.deepEqual(historyReads, [], "the fetch waits on the server's events");
  assert.deepEqual(await page.evaluate(() => [window.__dragEditorNode.dragEditor.image.img.naturalWidth, window.__dragEditorNode.dragEditor.image.img.naturalHeight]), [128, 96]);
  const fetched = await documentOf();
  assert.deepEqual([fetched.width, fetched.height], [128, 96]);
  await drawn();
  assert.equal((await statusOf()).notice, null);
  assert.ok(like(await pixel((await onCanvas([60, 50])).point), [200, 120, 40], 30), "the scaled image shows (its orange block)");
  await click([50, 45]);
  await click([70, 50]);
  const placed = await documentOf();
  assert.ok(close(placed.pairs[0].handle[0], 50) && close(placed.pairs[0].target[1], 50), JSON.stringify(placed));
  await shot("6b_fetched", true);
  const ran = await run();
  assert.equal(ran.status.status_str, "success", JSON.stringify(ran.status));
  assert.ok((await imageOf(ran, "scaled_holes")).some((v) => v), "the points placed on the fetched image reach FastDragWarp");
  await drawn();
  assert.equal((await statusOf()).notice, null, "the run's image is the fetched one: nothing rescaled");

  // The workflow loaded again: no image shows until it is fetched, but the points do not look lost.
  await page.evaluate(async () => {
    await window.app.loadGraphData(window.app.graph.serialize());
    window.__dragEditorNode = window.app.graph._nodes.find((n) => n.type === "DragPointsEditor");
  });
  await page.waitForTimeout(300);
  await drawn();
  assert.equal(await page.evaluate(() => window.__dragEditorNode.dragEditor.image), null);
  assert.equal((await statusOf()).line, "1 pair on the 128×96 image: fetch the image to see them");
  assert.deepEqual((await documentOf()).pairs, placed.pairs);

  // A widget changed upstream (ImageScale's width): the image shown is no longer the node's.
  await page.evaluate(() => {
    const width = window.app.graph._nodes.find((n) => n.type === "ImageScale").widgets.find((w) => w.name === "width");
    width.value = 160;
    width.callback?.(width.value);
  });
  await drawn();
  assert.deepEqual((await statusOf()).notice, [`${scaleTitle} changed the image; fetch it to place points`, "Fetch image"]);
  assert.equal(await page.evaluate(() => window.__dragEditorNode.dragEditor.image), null);

  // Another node on the image input: the notice is back, naming it.
  const invertTitle = await page.evaluate(() => {
    const g = window.app.graph;
    const invert = window.LiteGraph.createNode("ImageInvert");
    invert.pos = [20, 640];
    g.add(invert);
    g._nodes.find((n) => n.type === "LoadImage").connect(0, invert, 0);
    invert.connect(0, window.__dragEditorNode, 0);
    return invert.title;
  });
  await drawn();
  assert.deepEqual((await statusOf()).notice, [`The image comes from ${invertTitle}; fetch it to place points`, "Fetch image"]);
  assert.equal(await page.evaluate(() => window.__dragEditorNode.dragEditor.image), null);
}

async function main() {
  await openComfy(page, url, renderer);

  // Graph: LoadImage -> DragPointsEditor -> FastDragWarp (on an empty latent) and the mask and holes as images.
  await page.evaluate((name) => {
    const { app, LiteGraph } = window;
    const g = app.graph;
    g.clear();
    const add = (type, pos) => { const n = LiteGraph.createNode(type); n.pos = pos; g.add(n); return n; };
    const load = add("LoadImage", [20, 40]);
    load.widgets.find((w) => w.name === "image").value = name;
    const editor = add("DragPointsEditor", [330, 40]);
    editor.setSize([520, 620]);
    load.connect(0, editor, 0);
    const latent = add("EmptyLatentImage", [900, 40]);
    latent.widgets.find((w) => w.name === "width").value = 256;
    latent.widgets.find((w) => w.name === "height").value = 192;
    const warp = add("FastDragWarp", [900, 260]);
    latent.connect(0, warp, 0);
    editor.connect(1, warp, 1);
    editor.connect(2, warp, 2);
    for (const [slotNode, slot, y, prefix] of [[editor, 2, 460, "editor_mask"], [warp, 1, 640, "warp_holes"]]) {
      const toImage = add("MaskToImage", [1150, y]);
      slotNode.connect(slot, toImage, 0);
      const save = add("SaveImage", [1350, y]);
      save.widgets.find((w) => w.name === "filename_prefix").value = prefix;
      toImage.connect(0, save, 0);
    }
    window.__dragEditorNode = editor;
    app.canvas.ds.offset = [0, 0];
    app.canvas.ds.scale = 1;
    g.setDirtyCanvas(true, true);
  }, imageName);

  await page.waitForTimeout(500);
  const widgetsShown = await shownWidgets();
  console.log(`frontend ${widgetsShown.frontend}, ${renderer} renderer: ${JSON.stringify(widgetsShown)}`);
  assert.ok(widgetsShown.pointsWidget, "the points widget is still on the node (its value is saved and sent)");
  if (!widgetsShown.canvas) {
    // This frontend's renderer does not show custom DOM widgets (the Vue "Nodes 2.0" renderer of
    // frontend 1.27): the points stay editable as JSON in the node's text widget. Check that path.
    assert.equal(renderer, "vue", "the classic renderer must show the canvas");
    assert.ok(widgetsShown.textBoxes >= 1, "without the canvas the points text box must stay visible");
    await page.evaluate(() => {
      const widget = window.__dragEditorNode.widgets.find((w) => w.name === "points");
      widget.value = JSON.stringify({ width: 256, height: 192, pairs: [{ handle: [80, 90], target: [130, 100] }] });
    });
    const entry = await run();
    assert.equal(entry.status.status_str, "success", JSON.stringify(entry.status));
    assert.ok((await imageOf(entry, "warp_holes")).some((v) => v), "typed points reach FastDragWarp");
    assert.ok((await imageOf(entry, "editor_mask")).every((v) => v === 1), "no painting: the whole image is editable");
    await page.screenshot({ path: join(artifacts, "vue_json_fallback.png") });
    console.log("ok: the canvas is not rendered by this renderer; typed JSON points work");
    return;
  }

  assert.equal(widgetsShown.textBoxes, 0, "the canvas shows alone: no points JSON text box");

  // The canvas shows the upstream LoadImage file before any run.
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor.image?.img.naturalWidth === 256, null, { timeout: 30000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(artifacts, "0_graph.png") });

  // The status says at once what the points still need.
  assert.match((await statusOf()).line, /^no pairs yet: click the content to move, then where it goes$/);

  // Two pairs by mouse, move one target, delete the other pair (right click on its handle).
  await click([80, 90]);
  await drawn();
  assert.equal((await statusOf()).line, "missing the target for pair 1: click where it goes");
  await click([120, 95]);
  await drawn();
  assert.equal((await statusOf()).line, "1 pair ready");
  await click([180, 60]);
  await click([170, 120]);
  let doc = await documentOf();
  assert.equal(doc.width, 256);
  assert.equal(doc.pairs.length, 2);
  assert.ok(close(doc.pairs[0].handle[0], 80) && close(doc.pairs[0].handle[1], 90) && close(doc.pairs[1].target[1], 120), JSON.stringify(doc));
  await drag([120, 95], [130, 100]);
  await click([180, 60], "right");
  doc = await documentOf();
  assert.equal(doc.pairs.length, 1, JSON.stringify(doc));
  assert.ok(close(doc.pairs[0].target[0], 130) && close(doc.pairs[0].target[1], 100), JSON.stringify(doc));
  // A short drag by clicking: the target click lands on its own handle's marker, which a click does not
  // grab; a click on a marker with no handle waiting changes nothing.
  await click([200, 150]);
  await click([204, 152]);
  doc = await documentOf();
  assert.equal(doc.pairs.length, 2, JSON.stringify(doc));
  assert.ok(close(doc.pairs[1].target[0], 204) && close(doc.pairs[1].target[1], 152), JSON.stringify(doc));
  await click([204, 152]);
  assert.deepEqual(await documentOf(), doc, "a click on a marker with no handle waiting places nothing");
  await click([200, 150], "right");
  // A point dragged onto the right or bottom edge stays inside the image the node accepts.
  await drag([130, 100], [256, 192]);
  doc = await documentOf();
  assert.ok(doc.pairs[0].target[0] < 256 && doc.pairs[0].target[1] < 192, JSON.stringify(doc));
  assert.equal((await statusOf()).line, "1 pair ready");
  await drag([255.99, 191.99], [130, 100]);
  doc = await documentOf();
  assert.equal(doc.pairs.length, 1, JSON.stringify(doc));
  assert.ok(close(doc.pairs[0].target[0], 130) && close(doc.pairs[0].target[1], 100), JSON.stringify(doc));

  // The brush: its mode and size are set on the toolbar, shown as a number, and kept in the node's
  // properties, so that the graph's undo (which rebuilds the node) keeps them.
  await page.click(".drag-points-editor [data-action=paint]");
  await page.evaluate(() => {
    const slider = window.__dragEditorNode.dragEditor.view.brushSize;
    slider.value = "40";
    slider.dispatchEvent(new Event("input"));
  });
  assert.equal((await statusOf()).brush, "40 px");
  assert.deepEqual(await page.evaluate(() => { const { editor_mode, brush_size } = window.__dragEditorNode.properties; return { editor_mode, brush_size }; }), { editor_mode: "paint", brush_size: 40 });
  const beforeGraphUndo = await documentOf();
  await page.evaluate(async () => {
    const { app } = window;
    const tracker = app.extensionManager.workflow.activeWorkflow.changeTracker;
    const load = app.graph._nodes.find((n) => n.type === "LoadImage");
    tracker.checkState();
    window.__dragTestPos = [...load.pos];
    load.pos = [load.pos[0] + 40, load.pos[1] + 30];
    tracker.checkState();
    await app.extensionManager.command.execute("Comfy.Undo");
  });
  await page.waitForFunction(() => {
    const pos = window.app.graph._nodes.find((n) => n.type === "LoadImage")?.pos;
    return pos?.[0] === window.__dragTestPos[0] && pos[1] === window.__dragTestPos[1];
  }, null, { timeout: 30000 }); // the graph's undo undid the node move
  await page.evaluate(() => { window.__dragEditorNode = window.app.graph._nodes.find((n) => n.type === "DragPointsEditor"); });
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor?.image?.img.naturalWidth === 256, null, { timeout: 30000 });
  assert.ok((await shownWidgets()).canvas, "after the graph's undo the rebuilt node's canvas is the one shown");
  assert.deepEqual(await page.evaluate(() => ({ mode: window.__dragEditorNode.dragEditor.mode, brush: window.__dragEditorNode.dragEditor.brush })), { mode: "paint", brush: 40 }, "the graph's undo keeps the brush");
  assert.equal((await statusOf()).brush, "40 px");
  assert.deepEqual(await documentOf(), beforeGraphUndo);

  // The brush's circle follows the pointer at its true size (40 image pixels across), over the orange block.
  const [hx, hy] = await at([110, 95]);
  await page.mouse.move(hx, hy);
  await drawn();
  const brushCentre = (await onCanvas([110, 95])).point;
  const brushRadius = (await onCanvas([130, 95])).point[0] - brushCentre[0];
  const ring = [];
  for (let dx = -3; dx <= 3; dx++) ring.push(await pixel([brushCentre[0] + brushRadius + dx, brushCentre[1]]));
  assert.ok(ring.some((c) => c.every((v) => v > 180)) && ring.some((c) => c.every((v) => v < 110)), `the brush ring at radius 20 image pixels: ${JSON.stringify(ring)}`);
  assert.ok(like(await pixel([brushCentre[0] + brushRadius - 8, brushCentre[1]]), [200, 120, 40], 12), "inside the ring the image shows");
  await shot("1a_brush_cursor", true);

  // Paint the editable region with the wide brush.
  for (const y of [70, 100, 130]) await drag([40, y], [170, y]);
  await page.click(".drag-points-editor [data-action=points]");
  doc = await documentOf();
  assert.ok(doc.mask?.runs?.length > 0, "the painting is stored with the points");
  const shown = await page.evaluate(() => Array.from(window.__dragEditorNode.dragEditor.shownMask()));
  assert.equal(shown.length, 256 * 192);
  assert.equal(shown[100 * 256 + 100], 1);
  assert.equal(shown[10 * 256 + 10], 0);
  await shot("1_points_and_mask");

  // Before any run, a handle outside the painted region, or outside the circle FastDragWarp needs (around
  // the latent mask's bounding box), is drawn in a warning style and named in the status line at once.
  const circle = latentCircle(Uint8Array.from(shown), 256, 192);
  const outside = (point) => handlesOutside(circle, [pointToLatent(point, 256, 192)]).length > 0;
  const [inCircle, beyond] = [[104, 172], [250, 20]];
  assert.ok(!outside(inCircle) && !shown[172 * 256 + 104] && outside(beyond) && outside([80, 90]) === false, "the test's own points are where it means them");
  await drawn();
  await page.waitForTimeout(200); // the painting's overlay and status settle before the next click
  await click(inCircle);
  await drawn();
  assert.equal((await statusOf()).line, "missing the target for pair 2: click where it goes\npair 2: its handle is outside the painted region (in the darkened part), so its content will not move");
  const warned = async (point) => like(await pixel((await onCanvas(point)).point), WARNING);
  assert.ok(await warned(inCircle), "a handle outside the region is drawn in the warning colour");
  assert.ok(like(await pixel((await onCanvas([80, 90])).point), HANDLE), "a good handle keeps its colour");
  // FastDragWarp's circle is drawn while a handle lies outside it: at its top and its left, say.
  const warpCircle = circleInImage(circle, 256, 192);
  const onRing = [[warpCircle.x, warpCircle.y - warpCircle.ry], [warpCircle.x - warpCircle.rx, warpCircle.y]].filter(([x, y]) => x >= 0 && y >= 0);
  const ringShown = async () => {
    for (const point of onRing) {
      const [x, y] = (await onCanvas(point)).point;
      const near = await Promise.all([[0, 0], [0, -1], [0, 1], [-1, 0], [1, 0]].map(([dx, dy]) => pixel([x + dx, y + dy])));
      if (!near.some((colour) => like(colour, WARNING, 50))) return false;
    }
    return onRing.length > 0;
  };
  assert.ok(!(await ringShown()), "no circle while every handle is inside it");
  await click([150, 172]);
  await click(beyond);
  await drawn();
  assert.ok(await ringShown(), "the circle shows once a handle is outside it");
  assert.equal((await statusOf()).line, [
    "missing the target for pair 3: click where it goes",
    "pair 3: its handle is outside FastDragWarp's circle around the mask: extend the mask, or FastDragWarp refuses it",
    "pair 2: its handle is outside the painted region (in the darkened part), so its content will not move",
  ].join("\n"));
  assert.ok(await warned(beyond) && await warned(inCircle));
  // Every warning shows in full at the node's size: wrapped inside the editor, nothing cut off or hidden.
  const fits = await page.evaluate(() => {
    const editor = window.__dragEditorNode.dragEditor;
    const status = editor.element.querySelector(".drag-status").getBoundingClientRect();
    const root = editor.element.getBoundingClientRect();
    const text = editor.element.querySelector(".drag-status");
    return { inside: status.right <= root.right + 1 && status.bottom <= root.bottom + 1 && status.height > 30, clipped: text.scrollWidth > text.clientWidth + 1 };
  });
  assert.ok(fits.inside && !fits.clipped, JSON.stringify(fits));
  await shot("1c_warnings", true);
  for (let i = 0; i < 3; i++) await page.keyboard.press("Control+z");
  assert.deepEqual(await documentOf(), doc);
  await drawn();
  assert.equal((await statusOf()).line, "1 pair ready");

  // Undo the last stroke and redo it.
  await page.keyboard.press("Control+z");
  assert.notDeepEqual((await documentOf()).mask, doc.mask);
  await page.keyboard.press("Control+y");
  assert.deepEqual(await documentOf(), doc);

  // Typed JSON stays reachable: the JSON view shows the document and applies an edit, pasting reads another
  // pack's point list; both are one undo step each.
  await page.evaluate(() => document.querySelector("[data-action=json]").click());
  const text = await page.evaluate(() => {
    const view = document.querySelector(".drag-points-json");
    return getComputedStyle(view).display === "none" ? null : view.value;
  });
  assert.deepEqual(JSON.parse(text), doc, "the JSON view shows the document");
  await shot("1b_json_view");
  await page.evaluate((edited) => {
    const view = document.querySelector(".drag-points-json");
    view.value = JSON.stringify(edited);
    view.dispatchEvent(new Event("change"));
  }, { width: doc.width, height: doc.height, pairs: [{ handle: [60, 60], target: [90, 70] }] });
  assert.deepEqual((await documentOf()).pairs, [{ handle: [60, 60], target: [90, 70] }]);
  assert.equal((await documentOf()).mask, undefined, "a typed document without a mask clears the mask");
  await click([5, 5]); // focus the canvas's keys (a click in Points mode adds a handle: undone next)
  await page.keyboard.press("Control+z");
  await page.keyboard.press("Control+z");
  assert.deepEqual(await documentOf(), doc, "the typed edit is one undo step");
  const paste = (text, withKeys) => page.evaluate(([text, withKeys]) => {
    const keys = window.__dragEditorNode.dragEditor.keys;
    if (withKeys) keys.dispatchEvent(new KeyboardEvent("keydown", { key: "v", ctrlKey: true, bubbles: true, cancelable: true }));
    const data = new DataTransfer();
    data.setData("text/plain", text);
    keys.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, [text, withKeys]);
  // A paste nobody asked for with Ctrl+V (Linux pastes the primary selection on a middle-button press,
  // which pans here) leaves the points and the status line alone, whatever text it carries.
  await drawn(); // the status line of the undo above is written with the next frame
  const statusBefore = (await statusOf()).line;
  await paste("[[10, 10], [20, 20]]", false);
  await paste("some selected words", false);
  assert.deepEqual(await documentOf(), doc, "a paste without Ctrl+V changes nothing");
  await drawn();
  assert.equal((await statusOf()).line, statusBefore);
  await paste(JSON.stringify([{ x: 30, y: 40 }, { x: 50, y: 45 }]), true);
  const pasted = await documentOf();
  assert.deepEqual(pasted.pairs, [{ handle: [30, 40], target: [50, 45] }], JSON.stringify(pasted));
  assert.deepEqual(pasted.mask, doc.mask, "pasting a point list keeps the painted mask");
  await page.keyboard.press("Control+z");
  assert.deepEqual(await documentOf(), doc, "undo brings the placed points back");
  await page.evaluate(() => document.querySelector("[data-action=json]").click());

  // Save the workflow and load it back: the canvas comes back exactly. The hidden widget is still saved and sent.
  const saved = await page.evaluate(() => window.app.graph.serialize());
  const editorNode = saved.nodes.find((n) => n.type === "DragPointsEditor");
  assert.deepEqual(JSON.parse(editorNode.widgets_values[0]), doc);
  const sent = await page.evaluate(async () => {
    const prompt = await window.app.graphToPrompt();
    return prompt.output[String(window.__dragEditorNode.id)].inputs.points;
  });
  assert.deepEqual(JSON.parse(sent), doc, "the prompt carries the points document");
  await page.evaluate(async (workflow) => {
    await window.app.loadGraphData(workflow);
    window.__dragEditorNode = window.app.graph._nodes.find((n) => n.type === "DragPointsEditor");
  }, saved);
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor?.image?.img.naturalWidth === 256, null, { timeout: 30000 });
  const reloaded = await page.evaluate(() => window.__dragEditorNode.dragEditor.state.toJSON());
  assert.deepEqual(JSON.parse(JSON.stringify(reloaded)), doc);
  await page.waitForTimeout(300);
  assert.equal((await shownWidgets()).textBoxes, 0, "after loading a workflow the points text box stays hidden");
  await shot("2_reloaded");

  // Another image of another size: the points and the mask are rescaled as one undoable step, and the
  // status says so with an Undo button; undoing gives them back at the old size, named as such.
  const pickImage = (name) => page.evaluate((file) => {
    const widget = window.app.graph._nodes.find((n) => n.type === "LoadImage").widgets.find((w) => w.name === "image");
    widget.value = file;
    widget.callback?.(file);
  }, name);
  await pickImage(imageName.replace(/\.png$/, "_portrait.png"));
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor.image?.img.naturalWidth === 192, null, { timeout: 30000 });
  await drawn();
  const rescaled = await documentOf();
  assert.deepEqual([rescaled.width, rescaled.height], [192, 256]);
  assert.ok(close(rescaled.pairs[0].handle[0], doc.pairs[0].handle[0] * 0.75, 0.01) && close(rescaled.pairs[0].handle[1], doc.pairs[0].handle[1] * 4 / 3, 0.01), JSON.stringify(rescaled));
  assert.ok(rescaled.mask.runs.length > 0);
  assert.deepEqual((await statusOf()).notice, ["points rescaled from 256×192 to 192×256", "Undo", "Clear points and mask"]);
  await shot("2b_rescaled_notice", true);
  await page.click(".drag-notice button");
  await drawn();
  assert.deepEqual(await documentOf(), doc, "Undo gives back the points and the mask at the old size");
  assert.deepEqual((await statusOf()).notice, ["the points are for 256×192, the image is 192×256", "Rescale"]);
  await pickImage(imageName);
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor.image?.img.naturalWidth === 256, null, { timeout: 30000 });
  await drawn();
  assert.deepEqual(await documentOf(), doc, "back on an image of the document's size nothing is rescaled");
  // A new picture keeps the points and the mask, and offers to clear both (as the official demo does), as one undo step.
  assert.deepEqual((await statusOf()).notice, ["new image: 1 pair and the painted mask kept", "Clear points and mask"]);
  await page.click(".drag-notice button[data-action=clear-all]");
  await drawn();
  const cleared = await documentOf();
  assert.ok(cleared.pairs.length === 0 && cleared.mask === undefined, JSON.stringify(cleared));
  assert.equal((await statusOf()).notice, null);
  await click([5, 5]); // focus the canvas's keys (a click in Points mode adds a handle: undone next)
  await page.keyboard.press("Control+z");
  await page.keyboard.press("Control+z");
  assert.deepEqual(await documentOf(), doc, "Clear points is one undo step");
  await drawn();
  assert.equal((await statusOf()).notice, null);

  // Queue: the MASK output is exactly what is shown, and the points reach FastDragWarp.
  const first = await run();
  assert.equal(first.status.status_str, "success", JSON.stringify(first.status));
  assert.deepEqual(await imageOf(first, "editor_mask"), shown, "the MASK output is the mask shown on the canvas");
  const holes = await imageOf(first, "warp_holes");
  assert.ok(holes.some((v) => v), "FastDragWarp moved content: the points arrived");

  // Moving a point changes the widget, so a re-queue runs the editor again with the new points.
  await drag([130, 100], [100, 140]);
  const second = await run();
  assert.notDeepEqual(await imageOf(second, "warp_holes"), holes, "the re-queue used the moved point");

  // A connected MASK (LoadImage of a transparent image: mask = 1 - alpha) is shown after a run and can be refined.
  await page.evaluate((name) => {
    const editor = window.__dragEditorNode;
    editor.dragEditor.change(() => editor.dragEditor.state.clearMask());
    const load = window.app.graph._nodes.find((n) => n.type === "LoadImage");
    load.widgets.find((w) => w.name === "image").value = name;
    load.connect(1, editor, 1);
  }, imageName.replace(/\.png$/, "_alpha.png"));
  const third = await run();
  assert.equal(third.status.status_str, "success", JSON.stringify(third.status));
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor.baseMask !== null, null, { timeout: 10000 });
  const base = await page.evaluate(() => Array.from(window.__dragEditorNode.dragEditor.shownMask()));
  assert.deepEqual(await imageOf(third, "editor_mask"), base, "the connected mask is shown as it is output");
  assert.equal(base[100 * 256 + 100], 1);
  assert.equal(base[20 * 256 + 20], 0);
  await page.evaluate(() => { const e = window.__dragEditorNode.dragEditor; e.setMode("erase"); e.setBrush(30); });
  await drag([150, 80], [190, 80]);
  await page.evaluate(() => window.__dragEditorNode.dragEditor.setMode("points"));
  const refined = await page.evaluate(() => Array.from(window.__dragEditorNode.dragEditor.shownMask()));
  assert.equal(refined[80 * 256 + 170], 0, "erased");
  assert.equal(refined[100 * 256 + 100], 1, "kept");
  const fourth = await run();
  assert.deepEqual(await imageOf(fourth, "editor_mask"), refined, "the refined mask is what the node outputs");
  await shot("4_connected_mask_refined");

  // Preview toggle: FastDragWarp's relocation drawn on the image. It shows what the node does, to the
  // latent pixel: its holes are the holes FastDragWarp output for the same points and mask.
  await page.evaluate(() => document.querySelector("[data-action=preview]").click());
  await page.waitForTimeout(300);
  const status = (await statusOf()).line;
  assert.match(status, /^1 pair ready · preview: \d+ ms$/);
  const previewHoles = () => page.evaluate(() => {
    const { src, lh, lw } = window.__dragEditorNode.dragEditor.previewCache.result;
    return Array.from({ length: 256 * 192 }, (_, i) => {
      const [x, y] = [i % 256, Math.floor(i / 256)];
      return (y >> 3) < lh && (x >> 3) < lw && src[(y >> 3) * lw + (x >> 3)] < 0 ? 1 : 0;
    });
  });
  assert.deepEqual(await previewHoles(), await imageOf(fourth, "warp_holes"), "the preview's holes are FastDragWarp's");
  await shot("3_preview");

  // It follows the FastDragWarp it feeds: with two pairs, nearest_handle moves other pixels, and the
  // preview still equals the node. BNNI's fill shows on request.
  await page.evaluate(() => {
    const editor = window.__dragEditorNode.dragEditor;
    editor.change(() => { editor.state.addPoint([120, 110]); editor.state.addPoint([100, 122]); });
  });
  await page.waitForTimeout(300);
  const inverse = await previewHoles();
  await page.evaluate(() => {
    const warp = window.app.graph._nodes.find((n) => n.type === "FastDragWarp");
    const option = warp.widgets.find((w) => w.name === "aggregation");
    option.value = "nearest_handle";
    option.callback?.(option.value);
  });
  await page.waitForTimeout(300);
  const nearest = await previewHoles();
  assert.notDeepEqual(nearest, inverse, "the preview follows FastDragWarp's aggregation");
  const fifth = await run();
  assert.equal(fifth.status.status_str, "success", JSON.stringify(fifth.status));
  assert.deepEqual(nearest, await imageOf(fifth, "warp_holes"), "with nearest_handle too, the preview's holes are FastDragWarp's");
  await page.evaluate(() => document.querySelector("[data-action=fill]").click());
  await page.waitForTimeout(300);
  await shot("3b_preview_filled");

  // Readable marks: twelve pairs with drags of two pixels. Each point is a dot with its number in a badge
  // beside it, clear of the arrow, so that even these drags show their direction and two digits fit.
  await page.evaluate(() => {
    document.querySelector("[data-action=preview]").click();
    const editor = window.__dragEditorNode.dragEditor;
    editor.change(() => {
      editor.state.clearPoints();
      for (let i = 0; i < 12; i++) {
        const [x, y] = [40 + (i % 4) * 55, 40 + Math.floor(i / 4) * 55];
        editor.state.addPoint([x, y]);
        editor.state.addPoint([x + 2, y + 1]);
      }
    });
  });
  await drawn();
  await shot("5_marks_twelve_short_drags", true);
  for (const [handle, target] of [[[40, 40], [42, 41]], [[205, 150], [207, 151]]]) {
    const { point: h, radius } = await onCanvas(handle);
    const { point: t } = await onCanvas(target);
    const marks = pairMarks(h, t, radius);
    const length = Math.hypot(marks.arrow.to[0] - h[0], marks.arrow.to[1] - h[1]);
    const u = [(marks.arrow.to[0] - h[0]) / length, (marks.arrow.to[1] - h[1]) / length];
    assert.ok(like(await pixel(t), TARGET), "the target's dot shows");
    const handleColour = await pixel([h[0] - u[0] * 0.6 * marks.dot, h[1] - u[1] * 0.6 * marks.dot]); // the side the target's dot leaves free
    assert.ok(like(handleColour, HANDLE) || like(handleColour, WARNING), `the handle's dot shows: ${handleColour}`);
    const shaft = await pixel([marks.arrow.to[0] - u[0] * 0.3 * marks.arrow.head, marks.arrow.to[1] - u[1] * 0.3 * marks.arrow.head]);
    assert.ok(shaft.every((v) => v > 170), `the arrow of a 2-pixel drag shows past the target's dot: ${shaft}`);
    for (const side of [-0.85, 0.85]) {
      assert.ok(like(await pixel([marks.targetBadge[0] + side * radius, marks.targetBadge[1]]), TARGET, 30), "the number stays inside its badge");
    }
  }
  const bigRadius = (await onCanvas([0, 0])).radius;

  // Zoom (wheel) and pan (middle drag) inside the canvas, with the image pixel under the pointer shown;
  // the graph neither zooms nor pans, and a click lands on the pixel shown.
  const graphView = () => page.evaluate(() => JSON.stringify([window.app.canvas.ds.scale, [...window.app.canvas.ds.offset]]));
  const graphBefore = await graphView();
  const aim = [100.5, 80.5];
  const [ax, ay] = await at(aim);
  await page.mouse.move(ax, ay);
  assert.equal((await statusOf()).readout, "x 100, y 80");
  await page.mouse.wheel(0, -600);
  await drawn();
  assert.equal((await statusOf()).readout, "x 100, y 80 · 332%", "the pixel under the pointer stays under it");
  const [zx, zy] = await at(aim);
  await page.mouse.down({ button: "middle" });
  await page.mouse.move(ax + 60, ay + 30, { steps: 5 });
  await page.mouse.up({ button: "middle" });
  await drawn();
  assert.equal((await statusOf()).readout, "x 100, y 80 · 332%", "the grabbed pixel follows the pointer");
  const [mx, my] = await at(aim);
  assert.ok(Math.abs(mx - zx - 60) < 1 && Math.abs(my - zy - 30) < 1, `the image moved with the pointer: ${[mx - zx, my - zy]}`);
  assert.equal(await graphView(), graphBefore, "the graph did not zoom or pan");
  await shot("5b_zoomed", true);
  await click([108.25, 86.75]);
  const placed = (await documentOf()).pairs.at(-1).handle;
  assert.ok(close(placed[0], 108.25, 0.2) && close(placed[1], 86.75, 0.2), `a click when zoomed in lands on the pixel shown: ${placed}`);
  await page.keyboard.press("Control+z");
  // The readout names the pixel of the point that a click there stores (rounded to 0.01 px): just left of
  // pixel 100's edge, both say 100.
  await page.mouse.move(...(await at([99.998, 80.5])));
  assert.equal((await statusOf()).readout, "x 100, y 80 · 332%", "the readout names the stored point's pixel");
  await click([99.998, 80.5]);
  assert.deepEqual((await documentOf()).pairs.at(-1).handle, [100, 80.5], "the click stored the point the readout named");
  await page.keyboard.press("Control+z");
  await page.keyboard.press("0");
  await drawn();
  assert.equal(await page.evaluate(() => window.__dragEditorNode.dragEditor.camera), null, "0 fits the image again");

  // The keyboard with no click (a click edits): the pointer over the canvas gives it the keys, and leaving
  // gives them back; the Fit button does what 0 does.
  const camera = () => page.evaluate(() => window.__dragEditorNode.dragEditor.camera);
  const emptyGraph = await page.evaluate(() => {
    const r = window.app.canvas.canvas.getBoundingClientRect();
    return [r.right - 40, r.bottom - 40];
  });
  const elsewhere = async () => {  // the pointer and the focus on the graph, away from the canvas
    await page.mouse.move(...emptyGraph);
    await page.mouse.click(...emptyGraph);
    await page.waitForTimeout(100);
  };
  await elsewhere();
  await page.mouse.move(...(await at([120, 90])));
  await page.mouse.wheel(0, -400);
  await drawn();
  assert.notEqual(await camera(), null);
  await page.keyboard.press("0");
  await drawn();
  assert.equal(await camera(), null, "0 fits with the pointer over the canvas, no click needed");
  await page.mouse.wheel(0, -400);
  await drawn();
  await page.click('.drag-points-editor button[data-action="fit"]');
  await drawn();
  assert.equal(await camera(), null, "the Fit button fits");
  const pairsBefore = (await documentOf()).pairs;
  await click([60, 60]);
  await click([90, 70]);
  await elsewhere();
  await page.mouse.move(...(await at([120, 90])));
  await page.keyboard.press("Control+z");
  await drawn();
  assert.deepEqual((await documentOf()).pairs, [...pairsBefore, { handle: [60, 60] }], "Ctrl+Z over the canvas undoes its last command");
  // The graph's own undo, with the pointer and the focus elsewhere, takes back one canvas command at a time
  // (each is a step of the graph's history), not everything since the last click on the graph.
  await elsewhere();
  const editorId = await page.evaluate(() => window.__dragEditorNode.id);
  // Undo reloads the graph asynchronously (slowly on a loaded machine); a second Ctrl+Z during that starts a
  // second reload that may finish first: wait for the points to change (10 s at most) before the next key, as
  // a person sees the change before pressing again. The node keeps the size the undo restored: content that
  // regrew it would be recorded as a step of its own, which the next Ctrl+Z would take back instead.
  const graphUndo = async () => {
    const before = JSON.stringify((await documentOf()).pairs);
    await page.keyboard.press("Control+z");
    await page.waitForFunction(([id, before]) => {
      window.__dragEditorNode = window.app.graph.getNodeById(id); // undo may rebuild the node
      const points = window.__dragEditorNode?.widgets?.find((w) => w.name === "points")?.value;
      return points && JSON.stringify(JSON.parse(points).pairs) !== before;
    }, [editorId, before], { timeout: 10000, polling: 50 }).catch(() => {});
    const restored = await page.evaluate(() => [...window.__dragEditorNode.size]);
    await page.waitForTimeout(700);
    assert.deepEqual(await page.evaluate(() => [...window.__dragEditorNode.size]), restored, "the node keeps the size the graph's undo restored");
    return (await documentOf()).pairs;
  };
  assert.deepEqual(await graphUndo(), [...pairsBefore, { handle: [60, 60], target: [90, 70] }], "one graph undo: the canvas's undo taken back");
  assert.deepEqual(await graphUndo(), [...pairsBefore, { handle: [60, 60] }], "the next: the target");
  assert.deepEqual(await graphUndo(), pairsBefore, "the next: the handle");

  // At a low graph zoom the frontend draws nodes in low quality and hides DOM widgets unless they ask
  // otherwise: the canvas stays shown, as LoadImage's preview does.
  await page.evaluate(() => {
    window.app.canvas.ds.scale = 0.4;
    window.app.canvas.setDirty(true, true);
  });
  await page.waitForTimeout(600);
  const lowZoom = await shownWidgets();
  assert.ok(lowZoom.canvas, "the canvas is shown at graph zoom 0.4");
  await page.screenshot({ path: join(artifacts, "5c_low_graph_zoom.png") });
  // At graph zoom 0.6, with the canvas's box starting mid-pixel on screen: the drawing spans the backing store
  // on each axis, each row of the canvas shows where the editor maps the pointer (a screenshot finds it), and
  // a click lands on the image point the editor maps the pointer to.
  await page.evaluate(() => {
    const ds = window.app.canvas.ds;
    ds.scale = 0.6;
    window.app.canvas.setDirty(true, true);
  });
  await page.waitForTimeout(400);
  await page.evaluate(() => {
    const ds = window.app.canvas.ds;
    const top = window.__dragEditorNode.dragEditor.canvas.getBoundingClientRect().top;
    ds.offset[1] += (0.45 - (top - Math.floor(top))) / ds.scale;
    window.app.canvas.setDirty(true, true);
  });
  await page.waitForTimeout(400);
  await page.evaluate(() => window.__dragEditorNode.dragEditor.view.requestDraw()); // its backing store at this zoom
  await drawn();
  const transform = await page.evaluate(() => {
    const canvas = window.__dragEditorNode.dragEditor.canvas;
    const t = canvas.getContext("2d").getTransform();
    return [t.a, t.d, canvas.width / canvas.clientWidth, canvas.height / canvas.clientHeight];
  });
  assert.ok(close(transform[0], transform[2], 1e-6) && close(transform[1], transform[3], 1e-6), `the drawing spans the backing store on each axis: ${transform}`);
  // The compositor may show the canvas up to half a pixel from its box (pixel snapping, not visible to the
  // page), so the rows may all be off by as much; the stretch between them must match.
  const [top, middle, bottom] = await rowsShown();
  for (const { row, shownAt, mappedTo } of [top, middle, bottom]) {
    assert.ok(Math.abs(shownAt - mappedTo) < 0.55, `canvas row ${row} shows at client y ${shownAt}, the pointer is mapped to it at ${mappedTo}`);
  }
  const spread = [bottom.shownAt - top.shownAt, bottom.mappedTo - top.mappedTo, middle.shownAt - top.shownAt, middle.mappedTo - top.mappedTo];
  assert.ok(Math.abs(spread[0] - spread[1]) < 0.1 && Math.abs(spread[2] - spread[3]) < 0.1, `rows ${top.row}-${middle.row}-${bottom.row} lie as far apart as mapped: ${spread}`);
  const corner = await page.evaluate(() => [0.93, 0.97].map((f, i) => Math.round(f * [window.__dragEditorNode.dragEditor.state.width, window.__dragEditorNode.dragEditor.state.height][i]) + 0.5));
  await click(corner);
  const landed = (await documentOf()).pairs.at(-1).handle;
  assert.ok(close(landed[0], corner[0], 0.1) && close(landed[1], corner[1], 0.1), `at graph zoom 0.6 the click at ${corner} stored ${landed}`);
  await page.keyboard.press("Control+z");
  await page.evaluate(() => {
    window.app.canvas.ds.scale = 1;
    window.app.canvas.setDirty(true, true);
  });

  // A smaller node gets smaller marks, still readable.
  await page.evaluate(() => {
    window.__dragEditorNode.setSize([380, 430]);
    window.app.canvas.setDirty(true, true);
  });
  await page.waitForTimeout(400);
  const smallRadius = (await onCanvas([0, 0])).radius;
  assert.ok(smallRadius < bigRadius && smallRadius >= 6, `marks follow the node's size: ${bigRadius} -> ${smallRadius}`);
  await shot("5d_small_node");

  // "Use output N" in one step: after a run, the images that depend on the points are offered by number; using
  // one uploads it, picks it in the LoadImage and starts afresh on it, as the official demo does (points and
  // mask cleared, one undo step, said in the notice).
  await page.evaluate(() => {  // one pair in the middle, no painting: a run FastDragWarp accepts
    const editor = window.__dragEditorNode.dragEditor;
    editor.change(() => {
      editor.state.clearAll();
      editor.state.addPoint([128, 96]);
      editor.state.addPoint([140, 100]);
    });
  });
  const used = await run();
  assert.equal(used.status.status_str, "success", JSON.stringify(used.status));
  await page.waitForFunction(() => window.__dragEditorNode.dragEditor.results === 1, null, { timeout: 10000 });
  await drawn();
  assert.deepEqual((await statusOf()).notice, ["use output", "1"], "the holes image (it depends on the points) is offered; the mask's is not");
  const pairsKept = (await documentOf()).pairs;
  assert.ok(pairsKept.length > 0);
  await page.click('.drag-points-editor .drag-notice button:text-is("1")');
  await page.waitForFunction(() => /^result 1 is the new source/.test(window.__dragEditorNode.dragEditor.element.querySelector(".drag-notice").textContent), null, { timeout: 10000 });
  const picked = await page.evaluate(() => window.app.graph._nodes.find((n) => n.type === "LoadImage").widgets.find((w) => w.name === "image").value);
  assert.match(picked, /^drag_result_1.*\.png$/, "the result is the LoadImage's file now");
  assert.deepEqual((await statusOf()).notice, ["result 1 is the new source: points and mask cleared", "Undo"]);
  assert.deepEqual((await documentOf()).pairs, [], "a fresh start on the result");
  await page.click('.drag-points-editor .drag-notice button:text-is("Undo")');
  await drawn();
  assert.deepEqual((await documentOf()).pairs, pairsKept, "Undo gives the points back");

  // Removing the node takes its editor down cleanly.
  await page.evaluate(() => {
    const node = window.__dragEditorNode;
    window.app.graph.remove(node);
  });
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__dragEditorNode.dragBinding), null);

  await imageThroughOtherNodes(imageName);
  console.log(`ok: points, move, delete, paint, undo/redo, checks before a run, brush cursor and settings through a graph undo, save/reload, rescale notice and undo, MASK and DRAG_POINTS outputs, re-queue, connected mask refined, preview equal to FastDragWarp (${status}), readable marks, canvas zoom and pan, the readout names the stored pixel, keys with no click, Fit, one graph undo step per canvas command (the node keeping its size), low graph zoom, clicks on the pixel shown at graph zoom 0.6, use output N, an image through ImageScale fetched before placing points (its message wrapped on a narrow node), one error on the editor without pairs`);
  assert.deepEqual(errors, [], errors.join("\n"));
}

try {
  await main();
} catch (error) {
  await page.screenshot({ path: join(artifacts, "failure.png") }).catch(() => {});
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
}
