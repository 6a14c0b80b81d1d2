// SVG text building blocks: escaping, number rounding for coordinates, and a rough text-width estimate for layout.

/** Escape text for XML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Coordinates to 0.1 px: enough for any screen or printer, and keeps the files small and stable. */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * Approximate width of `text` in px at `size` px in a sans-serif face: layout needs a number
 * before a browser ever sees the SVG (there is no text measurement in plain Node). Generous on
 * purpose, so labels never collide.
 */
export function textWidth(text: string, size: number): number {
  let w = 0;
  for (const ch of text) w += /[ijlt.,:;'|!I1() ]/.test(ch) ? 0.33 : /[mwMW@%]/.test(ch) ? 0.9 : /[A-Z0-9]/.test(ch) ? 0.65 : 0.56;
  return w * size;
}

/** The font every chart names, so standalone .svg files look like the page. */
export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
