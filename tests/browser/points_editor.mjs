// Browser test of the points editor canvas against a running ComfyUI with this pack (real frontend).
// Usage: node tests/browser/points_editor.mjs SERVER_URL IMAGE_NAME ARTIFACTS_DIR [litegraph|vue]
// IMAGE_NAME is a 256x192 image in ComfyUI's input folder, and ALPHA_NAME (IMAGE_NAME with "_alpha"
// before ".png") the same size with transparency, whose LoadImage MASK is connected at the end; the last
// argument picks the node renderer (the classic litegraph canvas, or the frontend's Vue-rendered
// "Nodes 2.0"). Exits non-zero on the first failed check; screenshots go to ARTIFACTS_DIR. Each queued
// prompt is followed by the id that /prompt returned for it, never by "the latest" history entry.
// Run by tests/integration/test_points_editor_browser.py.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { chromium } from "playwright-core";

const [url, imageName, artifacts, renderer = "litegraph"] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
const errors = [];
// Errors thrown by this pack's frontend code (the frontend's own occasional errors are not ours to test).
page.on("pageerror", (e) => { if (/drag_points_editor|\/lib\/(state|mask|geometry|warp_preview)\.js/.test(e.stack ?? "")) errors.push(`${e}\n${e.stack}`); });

async function shot(name) {
  const box = await page.evaluate(() => {
    const r = window.__dragEditorNode.dragEditor.canvas.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });
  await page.screenshot({ path: join(artifacts, `${name}.png`), clip: box });
}

/** Page coordinates of image point [x, y] on the editor's canvas. */
async function at(point) {
  return page.evaluate(([x, y]) => {
    const editor = window.__dragEditorNode.dragEditor;
    const r = editor.canvas.getBoundingClientRect();
    const view = editor.placement();
    return [r.x + x * view.scale + view.offsetX, r.y + y * view.scale + view.offsetY];
  }, point);
}

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

async function main() {
  // A fresh ComfyUI user gets the template browser and then the default workflow; skip both.
  await fetch(`${url}/settings/Comfy.TutorialCompleted`, { method: "POST", body: "true" });
  await fetch(`${url}/settings/Comfy.VueNodes.Enabled`, { method: "POST", body: String(renderer === "vue") });
  await page.goto(url);
  await page.waitForFunction(() => window.app?.graph && window.LiteGraph, null, { timeout: 90000 });
  await page.waitForTimeout(1500); // let the startup workflow finish loading before replacing it

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

  // Two pairs by mouse, move one target, delete the other pair (right click on its handle).
  await click([80, 90]);
  await click([120, 95]);
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

  // Paint the editable region with a wide brush.
  await page.evaluate(() => {
    const editor = window.__dragEditorNode.dragEditor;
    editor.setMode("paint");
    editor.brush = 40;
  });
  for (const y of [70, 100, 130]) await drag([40, y], [170, y]);
  await page.evaluate(() => window.__dragEditorNode.dragEditor.setMode("points"));
  doc = await documentOf();
  assert.ok(doc.mask?.runs?.length > 0, "the painting is stored with the points");
  const shown = await page.evaluate(() => Array.from(window.__dragEditorNode.dragEditor.shownMask()));
  assert.equal(shown.length, 256 * 192);
  assert.equal(shown[100 * 256 + 100], 1);
  assert.equal(shown[10 * 256 + 10], 0);
  await shot("1_points_and_mask");

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
  await page.evaluate(() => {
    const data = new DataTransfer();
    data.setData("text/plain", JSON.stringify([{ x: 30, y: 40 }, { x: 50, y: 45 }]));
    window.__dragEditorNode.dragEditor.keys.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  });
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
  await page.evaluate(() => { const e = window.__dragEditorNode.dragEditor; e.setMode("erase"); e.brush = 30; });
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
  const status = await page.evaluate(() => window.__dragEditorNode.dragEditor.status.textContent);
  assert.match(status, /^preview: \d+ ms$/);
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

  // Removing the node takes its editor down cleanly.
  await page.evaluate(() => {
    const node = window.__dragEditorNode;
    window.app.graph.remove(node);
  });
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__dragEditorNode.dragBinding), null);
  console.log(`ok: points, move, delete, paint, undo/redo, save/reload, MASK and DRAG_POINTS outputs, re-queue, connected mask refined, preview equal to FastDragWarp (${status})`);
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
