import { chromium } from "playwright-core";
import { openComfy } from "./comfy_page.mjs";
const [url] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
await openComfy(page, url, "litegraph");
await page.evaluate(() => {
  const { app, LiteGraph } = window; const g = app.graph; g.clear();
  const load = LiteGraph.createNode("LoadImage"); load.pos = [20, 40]; g.add(load); load.widgets.find((w) => w.name === "image").value = "example.png";
  const n = LiteGraph.createNode("DragPointsEditor"); n.pos = [400, 40]; g.add(n); n.setSize([520, 620]); load.connect(0, n, 0); window.__e = n;
  app.canvas.ds.scale = 0.6; g.setDirtyCanvas(true, true);
});
await page.waitForTimeout(3000);
console.log(await page.evaluate(() => { const e = window.__e.dragEditor; const r = e.canvas.getBoundingClientRect(); const t = e.canvas.getContext("2d").getTransform(); return JSON.stringify({ rect: [r.width, r.height], backing: [e.canvas.width, e.canvas.height], client: [e.canvas.clientWidth, e.canvas.clientHeight], t: [t.a, t.d], img: [e.state?.width, e.state?.height] }); }));
const p = await page.evaluate(() => window.__e.dragEditor.clientPoint([700.5, 740.5]));
await page.mouse.click(...p);
await page.waitForTimeout(200);
console.log(p, await page.evaluate(() => window.__e.widgets.find((w) => w.name === "points").value));
await browser.close();
