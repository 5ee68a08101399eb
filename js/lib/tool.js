// The points editor's tool: what a press on the canvas does (place points, paint or erase the editable
// region) and the brush's size. The node keeps both in its properties; they come back from a loaded
// workflow or the graph's undo as they were saved, or as anything hand-edited JSON holds.

export const MODES = ["points", "paint", "erase"];

/** The brush diameters the slider offers, in image pixels. */
export const BRUSH_SIZES = { min: 2, max: 128 };

export const DEFAULT_BRUSH = 16;

/** The tool `{mode, brush}` as kept in a node, made valid: an unknown mode is "points", a brush that is
 * no number the default, and any other is rounded into BRUSH_SIZES. */
export function toolOf({ mode, brush } = {}) {
  return {
    mode: MODES.includes(mode) ? mode : "points",
    brush: Number.isFinite(brush) ? Math.min(Math.max(Math.round(brush), BRUSH_SIZES.min), BRUSH_SIZES.max) : DEFAULT_BRUSH,
  };
}
