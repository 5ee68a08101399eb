// Text laid out for the canvas, which draws each line as given and cuts what passes its edge.

/**
 * `text` broken at spaces into lines no wider than `width` (in the units of `measure(line)`, which gives a
 * line's width); a word wider than `width` on its own gets a line of its own (it cannot be broken).
 */
export function wrapLines(text, width, measure) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const longer = line ? `${line} ${word}` : word;
    if (line && measure(longer) > width) {
      lines.push(line);
      line = word;
    } else {
      line = longer;
    }
  }
  if (line) lines.push(line);
  return lines;
}
