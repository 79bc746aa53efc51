// Categorical palettes and brightness ramps for trails. No class colour is grey: grey
// (NEUTRAL, faded) is what de-emphasised points are drawn in, so a brushed class always stands out.

// Tableau 10 with its grey (#bab0ac) replaced by a deep purple, the colour farthest (CIELAB,
// also under simulated deuteranopia) from the other nine.
const TABLEAU10 = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#5a3d8a",
];
// Tableau 20 without its two greys (#79706e, #bab0ac): 18 colours.
const TABLEAU20 = [
  "#4e79a7", "#a0cbe8", "#f28e2b", "#ffbe7d", "#59a14f", "#8cd17d", "#b6992d", "#f1ce63",
  "#499894", "#86bcb6", "#e15759", "#ff9d9a", "#d37295", "#fabfd2",
  "#b07aa1", "#d4a6c8", "#9d7660", "#d7b5a6",
];

function parseHex(hex) {
  const value = parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** One colour per class: `{hex, rgb: [r, g, b]}`; palettes repeat past 18 classes. */
export function classColors(count) {
  const palette = count <= TABLEAU10.length ? TABLEAU10 : TABLEAU20;
  return Array.from({ length: count }, (_, i) => {
    const hex = palette[i % palette.length];
    return { hex, rgb: parseHex(hex) };
  });
}

export function rgba(color, alpha) {
  const [r, g, b] = color.rgb;
  return `rgba(${r},${g},${b},${alpha})`;
}

/**
 * The colour at position `t` in [0, 1] of a dark-to-bright ramp of one hue:
 * 0 mixes it with 70% black (early layer / epoch), 1 with 35% white (late).
 */
export function shade(color, t, alpha = 1) {
  const mix = (channel) =>
    t < 0.6
      ? channel * (0.3 + (0.7 * t) / 0.6)
      : channel + (255 - channel) * 0.35 * ((t - 0.6) / 0.4);
  const [r, g, b] = color.rgb.map((c) => Math.round(mix(c)));
  return `rgba(${r},${g},${b},${alpha})`;
}

/**
 * The colour at `t` in [0, 1] of a sequential light-to-dark ramp of one hue:
 * 0 is nearly white, 0.7 the colour itself, 1 the colour with 35% black.
 */
export function sequential(color, t) {
  const mix = (channel) =>
    t < 0.7 ? 245 + (channel - 245) * (t / 0.7) : channel * (1 - 0.35 * ((t - 0.7) / 0.3));
  const [r, g, b] = color.rgb.map((c) => Math.round(mix(c)));
  return `rgb(${r},${g},${b})`;
}

/** A CSS gradient showing `sequential(color, ·)` from left (0) to right (1). */
export function sequentialGradient(color) {
  return `linear-gradient(to right, ${[0, 0.35, 0.7, 1].map((t) => `${sequential(color, t)} ${100 * t}%`).join(", ")})`;
}

/** Grey of de-emphasised (faded) points, at any opacity unlike every class colour. */
export const NEUTRAL = { hex: "#8a8a8a", rgb: [138, 138, 138] };

/** A colour of the page's theme: CSS variable `name` of the body, or `fallback` (light mode). */
export function themeColor(name, fallback) {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
