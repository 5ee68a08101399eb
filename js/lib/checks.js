// What the points editor says about the points before any run: what they still lack, and which handles
// a run would refuse (outside the circle FastDragWarp needs) or leave where they are (outside the
// editable region). The editor shows this at once in its status line and draws the named handles in a
// warning style, instead of letting the error come after the VAE encode and the inversion.

import { handlesOutside, pointToLatent } from "./warp_preview.js";

export const OUTSIDE_CIRCLE = "its handle is outside FastDragWarp's circle around the mask: extend the mask, or FastDragWarp refuses it";
const OUTSIDE_REGION = "its handle is outside the painted region (in the darkened part), so its content will not move";
// The same reasons said of several pairs at once.
const PLURAL = {
  [OUTSIDE_CIRCLE]: "their handles are outside FastDragWarp's circle around the mask: extend the mask, or FastDragWarp refuses them",
  [OUTSIDE_REGION]: "their handles are outside the painted region (in the darkened part), so their content will not move",
};
const EMPTY_MASK = "FastDragWarp's mask is empty at latent resolution: paint a larger region, or FastDragWarp refuses it";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Check the points against the region and the circle.
 * `pairs`: [{handle: [x, y], target: [x, y] | null}] in image pixels of a `width` x `height` image, as the
 * node gets them (rounded as stored). `region`: the editable region the editor outputs (Uint8Array of
 * width x height in raster order, 1 = editable), or null when the whole image is. `circle`: FastDragWarp's
 * circle in latent pixels ({cy, cx, r} from latentCircle of the mask it gets), null when that mask is
 * empty at latent resolution, undefined when it is not known (no FastDragWarp, or its mask comes from
 * elsewhere): then no circle is checked. Every handle is checked, also one still waiting for its target.
 *
 * Returns {missing, warnings, line, details}: missing: "no pairs yet", "pair N inside the image" (a point of
 * pair N lies outside the image: never ready), "target for pair N" or null;
 * warnings: [{pair, reason}], one per handle at most (pair: index from 0, or null for the mask as a
 * whole), what FastDragWarp refuses (an empty mask, then handles outside the circle) before handles
 * outside the region, and the circle's reason winning over the region's for a handle outside both;
 * line: what the points still need, or how many pairs are ready; details: every warning in full, one
 * line per reason naming the pairs it concerns ("pairs 2 and 4: their handles are ..."), in the order
 * of `warnings`.
 */
export function checkPoints(pairs, width, height, { region = null, circle } = {}) {
  const outsideCircle = circle ? handlesOutside(circle, pairs.map((p) => pointToLatent(p.handle, width, height))) : [];
  const refused = new Set(outsideCircle);
  const at = ([x, y]) => Math.min(Math.max(Math.floor(y), 0), height - 1) * width + Math.min(Math.max(Math.floor(x), 0), width - 1);
  const outsideRegion = region ? pairs.flatMap((p, pair) => (!region[at(p.handle)] && !refused.has(pair) ? [pair] : [])) : [];
  const warnings = [
    ...(circle === null ? [{ pair: null, reason: EMPTY_MASK }] : []),
    ...outsideCircle.map((pair) => ({ pair, reason: OUTSIDE_CIRCLE })),
    ...outsideRegion.map((pair) => ({ pair, reason: OUTSIDE_REGION })),
  ];
  const waiting = pairs.findIndex((p) => !p.target);
  // Pairs typed, pasted or shipped without an image size can lie beyond the image the node gets.
  const inside = (point) => !point || (point[0] >= 0 && point[0] < width && point[1] >= 0 && point[1] < height);
  const outside = pairs.findIndex((p) => !inside(p.handle) || !inside(p.target));
  const missing = !pairs.length ? "no pairs yet"
    : outside >= 0 ? `pair ${outside + 1} inside the image`
    : waiting < 0 ? null : `target for pair ${waiting + 1}`;
  const line = !pairs.length ? "no pairs yet: click the content to move, then where it goes"
    : outside >= 0 ? `pair ${outside + 1} lies outside the ${width}×${height} image, so the node refuses it: delete it (right click, or Delete for the last pair) and place it again`
    : missing ? `missing the ${missing}: click where it goes`
    : `${plural(pairs.length, "pair")} ready`;
  // One line per reason, naming every pair it concerns: a dozen handles outside the region stay one line.
  const details = [...new Set(warnings.map((w) => w.reason))].map((reason) => {
    const named = warnings.filter((w) => w.reason === reason && w.pair !== null).map((w) => w.pair + 1);
    if (!named.length) return reason;
    if (named.length === 1) return `pair ${named[0]}: ${reason}`;
    return `pairs ${named.slice(0, -1).join(", ")} and ${named.at(-1)}: ${PLURAL[reason]}`;
  });
  return { missing, warnings, line, details };
}
