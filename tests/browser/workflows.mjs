// The example workflows as a user meets them: listed in the Templates browser with their thumbnails,
// loaded into the real frontend, and laid out so that no node covers another.
// Usage: node tests/browser/workflows.mjs SERVER_URL MODULE ARTIFACTS_DIR [litegraph|vue] [--thumbnails DIR]
// MODULE is the pack's folder name in custom_nodes (the Templates browser lists its workflows/ under it).
// The Templates browser's search for "drag" shows every workflow of the pack, each card's title whole.
// For every workflow it checks, in the renderer picked: the template's JSON and its <name>.jpg thumbnail
// are served; each node is as large as the frontend needs it (LiteGraph's computeSize, or the Vue node's
// drawn box); no two nodes' boxes, title bars included, overlap. A screenshot of each loaded workflow goes
// to ARTIFACTS_DIR. With --thumbnails, it instead writes the screenshot that makes each workflow's
// thumbnail (its points editor's canvas, with the image and the pairs) as DIR/<name>.png. Right after loading, each
// editor fed by a LoadImage through Scale Image for Drag shows that file at the size the scale gives it, with
// the shipped pairs ready on it, and no editor says that an image changed (nothing changed).
// Run by tests/integration/test_workflows_browser.py and tests/integration/make_workflow_thumbnails.py.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import { chromium } from "playwright-core";

import { openComfy } from "./comfy_page.mjs";
import { workingSize } from "../../js/lib/working_size.js";

const args = process.argv.slice(2);
const thumbnailsAt = args.indexOf("--thumbnails");
const thumbnails = thumbnailsAt >= 0 ? args.splice(thumbnailsAt, 2)[1] : null;
const [url, module, artifacts, renderer = "litegraph"] = args;
mkdirSync(thumbnails ?? artifacts, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });

/** Load a workflow as the Templates browser does (by its name, from the pack's templates route). */
async function load(name) {
  await page.evaluate(async ([module, name]) => {
    const response = await fetch(`/api/workflow_templates/${encodeURIComponent(module)}/${encodeURIComponent(name)}.json`);
    if (!response.ok) throw new Error(`template ${name}: HTTP ${response.status}`);
    await window.app.loadGraphData(await response.json());
  }, [module, name]);
  // Let the images (LoadImage's preview, the editor's canvas: each editor fed a file through the scale has
  // loaded and resampled it) and the Vue nodes settle.
  await page.waitForFunction(() => window.app.graph._nodes
    .filter((n) => n.type === "DragPointsEditor" && n.getInputNode(0)?.getInputNode?.(0)?.type === "LoadImage")
    .every((n) => n.dragEditor.image), null, { timeout: 60000 });
  await page.waitForTimeout(renderer === "vue" ? 2500 : 1200);
}

/** Each node's box in graph units (title bar included) and, in LiteGraph, the size it needs. */
function boxes() {
  return page.evaluate((vue) => {
    const { app } = window;
    const scale = app.canvas.ds.scale;
    return app.graph._nodes.map((node) => {
      const title = `${node.type} #${node.id}`;
      if (vue) {
        const element = document.querySelector(`[data-node-id="${node.id}"]`);
        if (!element) return { title, missing: true };
        const r = element.getBoundingClientRect();  // screen pixels: one scale and offset for every node
        return { title, box: [r.left / scale, r.top / scale, r.right / scale, r.bottom / scale] };
      }
      const bounds = node.getBounding();
      return { title, box: [bounds[0], bounds[1], bounds[0] + bounds[2], bounds[1] + bounds[3]], size: [...node.size], needs: node.computeSize() };
    });
  }, renderer === "vue");
}

function checkLayout(name, nodes) {
  for (const node of nodes) {
    assert.ok(!node.missing, `${name}: ${node.title} is not drawn`);
    if (node.needs) {
      assert.ok(node.needs[0] <= node.size[0] + 1 && node.needs[1] <= node.size[1] + 1,
        `${name}: ${node.title} needs ${node.needs.map(Math.round)} but has ${node.size.map(Math.round)}`);
    }
  }
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const [a, b] = [nodes[i].box, nodes[j].box];
      const apart = a[2] <= b[0] + 1 || b[2] <= a[0] + 1 || a[3] <= b[1] + 1 || b[3] <= a[1] + 1;
      assert.ok(apart, `${name}: ${nodes[i].title} [${a.map(Math.round)}] overlaps ${nodes[j].title} [${b.map(Math.round)}]`);
    }
  }
}

/** What each points editor shows right after loading: its upstream, scale settings, source file's size,
 * image size, status line and notice. */
function editors() {
  return page.evaluate(async () => {
    const { app } = window;
    const found = [];
    for (const node of app.graph._nodes.filter((n) => n.type === "DragPointsEditor")) {
      const upstream = node.getInputNode(0);
      const origin = upstream?.type === "DragImageScale" ? upstream.getInputNode(0) : null;
      const widget = (n, name) => n?.widgets?.find((w) => w.name === name)?.value;
      let file = null;
      if (origin?.type === "LoadImage") {
        const img = new Image();
        img.src = `/view?filename=${encodeURIComponent(widget(origin, "image"))}&type=input`;
        await img.decode();
        file = [img.naturalWidth, img.naturalHeight];
      }
      const editor = node.dragEditor;
      const notice = editor.element.querySelector(".drag-notice");
      found.push({
        id: node.id, upstream: upstream?.type, file, shown: editor.element.isConnected,
        scale: upstream?.type === "DragImageScale" ? ["size", "fit", "multiple_of"].map((name) => widget(upstream, name)) : null,
        image: editor.image ? [editor.image.img.naturalWidth, editor.image.img.naturalHeight] : null,
        line: editor.status.textContent,
        notice: getComputedStyle(notice).display === "none" ? null : notice.firstChild.textContent,
      });
    }
    return found;
  });
}

function checkEditors(name, found) {
  assert.ok(found.length, `${name}: no points editor`);
  for (const editor of found) {
    const what = `${name}: editor #${editor.id}`;
    if (editor.file) assert.deepEqual(editor.image, workingSize(...editor.file, ...editor.scale), `${what}: the file at the scale's size`);
    if (!editor.shown) continue; // a renderer that shows no canvas (1.27's Vue beta) shows no status line either
    assert.ok(!/changed the image/.test(editor.notice ?? ""), `${what} says "${editor.notice}" right after loading`);
    if (editor.file) {
      assert.equal(editor.notice, null, `${what}: ${editor.notice}`);
      assert.match(editor.line, /^1 pair ready/, `${what}: the shipped pair lies on the scaled image`);
    } else {
      assert.match(editor.notice ?? "", /^The image comes from .*; fetch it to place points$/, `${what}: ${editor.notice}`);
    }
  }
}

/** Show the (first) points editor large and return the box of its canvas on the page: a workflow's thumbnail.
 * A workflow that does not sample (the warp preview) shows the editor's preview of the warp, its idea. */
async function showEditor() {
  const samples = await page.evaluate(() => {
    const { app } = window;
    const editor = app.graph._nodes.filter((n) => n.type === "DragPointsEditor").sort((a, b) => a.id - b.id)[0];
    const title = window.LiteGraph.NODE_TITLE_HEIGHT;
    const [w, h] = [editor.size[0], editor.size[1] + title];
    const canvas = app.canvas.canvas.getBoundingClientRect();
    const margin = 100;  // below the frontend's menu and tab bars
    const scale = Math.min((canvas.width - margin) / w, (canvas.height - margin) / h);
    app.canvas.ds.scale = scale;
    app.canvas.ds.offset = [-editor.pos[0] + margin / scale, -editor.pos[1] + title + margin / scale];
    app.graph.setDirtyCanvas(true, true);
    window.__thumbnailEditor = editor;
    return app.graph._nodes.some((n) => /Sampler/.test(n.type));
  });
  if (!samples) await page.evaluate(() => window.__thumbnailEditor.dragEditor.view.buttons.preview.click());
  await page.waitForTimeout(800);
  return page.evaluate(() => {
    const r = window.__thumbnailEditor.dragEditor.view.canvas.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  });
}

/** The Templates browser as a user searches it: open it, type QUERY into its search box, and return, for
 * each of NAMES, the visible elements whose whole text is that name (a card's title) and whether each shows
 * it whole (not cut by an ellipsis). A pack's template has only its file name for title and search text. */
async function searchTemplates(query, names) {
  await page.evaluate(() => window.app.extensionManager.command.execute("Comfy.BrowseTemplates"));
  const search = page.locator('[role="dialog"] input[placeholder*="earch" i]').first();
  await search.waitFor({ state: "visible", timeout: 30000 });
  await search.fill(query);
  await page.waitForTimeout(1500); // the search is debounced
  await page.screenshot({ path: join(artifacts, `templates search ${query}.png`) });
  const found = await page.evaluate((names) => {
    const dialog = document.querySelector('[role="dialog"]');
    const shown = [...dialog.querySelectorAll("*")].filter((e) => e.offsetParent && e.children.length === 0);
    return Object.fromEntries(names.map((name) => [name, shown.filter((e) => e.textContent.trim() === name)
      .map((e) => ({ tag: e.tagName, whole: e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1 }))]));
  }, names);
  await page.keyboard.press("Escape");
  await page.waitForTimeout(300);
  return found;
}

const t0 = Date.now();
/** Progress on stderr, so that a run that stalls shows where. */
const step = (what) => console.error(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);

async function main() {
  step("browser started");
  // The workflows name model files the test server lacks; the dialog saying so would cover the graph.
  await openComfy(page, url, renderer, { "Comfy.Workflow.ShowMissingModelsWarning": false });
  step("page loaded");
  const version = await page.evaluate(() => window.__COMFYUI_FRONTEND_VERSION__);
  // The Vue renderer of frontend 1.27 (the "Nodes 2.0" beta, off by default) ignores a workflow's node sizes:
  // it sizes each node to its content (up to 428 wide) and leaves custom widgets out.
  const older = (a, b) => { for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i]; return false; };
  const layoutKept = renderer !== "vue" || !older(version.split(".").map(Number), [1, 29, 3]);
  const listed = (await (await fetch(`${url}/api/workflow_templates`)).json())[module];
  assert.ok(listed?.length, `the Templates browser lists no workflows of ${module}`);
  if (!thumbnails) {
    // Found by the word users search for, each title shown whole on its card.
    const found = await searchTemplates("drag", listed);
    for (const name of listed) {
      assert.ok(found[name].length, `the Templates browser's search for "drag" does not show ${name}: ${JSON.stringify(found)}`);
      assert.ok(found[name].every((title) => title.whole), `the template card cuts the title ${name}: ${JSON.stringify(found[name])}`);
    }
    console.log(`ok: the Templates browser's search for "drag" shows all ${listed.length} workflows, each title whole`);
  }
  for (const name of [...listed].sort()) {
    step(name);
    await load(name);
    step("loaded the graph");
    if (thumbnails) {
      const clip = await showEditor();
      await page.screenshot({ path: join(thumbnails, `${name}.png`), clip });
      console.log(`thumbnail: ${name}`);
      continue;
    }
    const thumbnail = await fetch(`${url}/api/workflow_templates/${encodeURIComponent(module)}/${encodeURIComponent(name)}.jpg`);
    assert.equal(thumbnail.status, 200, `${name}.jpg: HTTP ${thumbnail.status}`);
    assert.equal(thumbnail.headers.get("content-type"), "image/jpeg");
    const bytes = new Uint8Array(await thumbnail.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 3)], [0xff, 0xd8, 0xff], `${name}.jpg is not a JPEG`);
    if (!layoutKept) {
      checkEditors(name, await editors());
      console.log(`ok: ${name} loads; layout not checked: this renderer sizes every node to its own content`);
      continue;
    }
    checkEditors(name, await editors());
    const nodes = await boxes();
    checkLayout(name, nodes);
    await page.evaluate(() => {  // the whole graph in view, below the menu bars
      const { app } = window;
      const nodes = app.graph._nodes;
      const [x0, y0] = [Math.min(...nodes.map((n) => n.pos[0])), Math.min(...nodes.map((n) => n.pos[1])) - 30];
      const [x1, y1] = [Math.max(...nodes.map((n) => n.pos[0] + n.size[0])), Math.max(...nodes.map((n) => n.pos[1] + n.size[1]))];
      const { width, height } = app.canvas.canvas.getBoundingClientRect();
      const scale = Math.min((width - 140) / (x1 - x0), (height - 160) / (y1 - y0));
      app.canvas.ds.scale = scale;
      app.canvas.ds.offset = [-x0 + 70 / scale, -y0 + 110 / scale];
      app.graph.setDirtyCanvas(true, true);
    });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(artifacts, `${name}.png`) });
    console.log(`ok: ${name} (${nodes.length} nodes, none covering another)`);
  }
  console.log(`frontend ${version}, ${renderer}: ${listed.length} workflows`);
}

// An error is printed before the browser is closed, and a close that does not finish cannot hold the exit.
const closed = () => Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 10000))]);
try {
  await main();
  await closed();
} catch (error) {
  console.error(error);
  await closed();
  process.exit(1);
}
