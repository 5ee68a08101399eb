// Opening ComfyUI's frontend in a browser page for the browser tests, as a returning user with the
// settings the test asks for.

/**
 * Post `settings` (id → value) to the server at `url`, with the node renderer picked ("vue" turns on
 * the Vue-rendered nodes) and the first-visit tutorial marked done, then open the frontend in `page`
 * and wait for its graph and for the startup workflow to finish loading.
 */
export async function openComfy(page, url, renderer, settings = {}) {
  // A fresh ComfyUI user gets the template browser and then the default workflow; skip both.
  const all = { "Comfy.TutorialCompleted": true, "Comfy.VueNodes.Enabled": renderer === "vue", ...settings };
  for (const [id, value] of Object.entries(all)) {
    await fetch(`${url}/settings/${id}`, { method: "POST", body: JSON.stringify(value) });
  }
  await page.goto(url, { timeout: 180000 }); // the first load on a busy CPU machine can take minutes
  await page.waitForFunction(() => window.app?.graph && window.LiteGraph, null, { timeout: 90000 });
  await page.waitForTimeout(1500); // let the startup workflow finish loading before replacing it
}
