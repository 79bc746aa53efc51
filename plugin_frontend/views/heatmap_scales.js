// Colour scales and legends of heatmaps (re-exported by ./heatmap.js). Each scale maps a value
// to `[r, g, b]`, or null for a missing value (NaN or null): an empty cell.

import { element } from "../dom.js";

export const HATCH_INK = "rgba(117,117,117,0.55)";
export const HATCH_GAP_PX = 5;
/** A CSS background that looks like the hatching of cells without data (for legends). */
export const HATCH_CSS = `repeating-linear-gradient(135deg, ${HATCH_INK} 0 1px, transparent 1px ${HATCH_GAP_PX}px)`;

/** A sequential light-to-dark scale over [min, max]. */
export function sequentialScale(min, max, from = [247, 251, 255], to = [8, 48, 107]) {
  return (value) => (isMissing(value) ? null : mix(from, to, clamp01((value - min) / (max - min || 1))));
}

/** A diverging scale: `negative` at min, `neutral` at the midpoint, `positive` at max. */
export function divergingScale(min, max, negative = [178, 24, 43], neutral = [247, 247, 247], positive = [33, 102, 172]) {
  const middle = (min + max) / 2;
  return (value) => {
    if (isMissing(value)) return null;
    return value < middle
      ? mix(neutral, negative, clamp01((middle - value) / (middle - min || 1)))
      : mix(neutral, positive, clamp01((value - middle) / (max - middle || 1)));
  };
}

/** A scale of integer codes: `colors[code]` (`[r, g, b]`). */
export function categoricalScale(colors) {
  return (value) => (isMissing(value) ? null : colors[value] ?? null);
}

export function cssColor([r, g, b]) {
  return `rgb(${r},${g},${b})`;
}

/** A horizontal colour bar for a continuous `scale` over [0, 1] of its range, labelled `min` and `max`. */
export function colorBar(parent, scale, { min, max, title, minValue = 0, maxValue = 1 }) {
  const bar = parent.appendChild(element("div", "heatmap-legend"));
  if (title) bar.appendChild(element("span", "heatmap-legend-title", title));
  bar.appendChild(element("span", "heatmap-legend-label", min));
  const ramp = bar.appendChild(element("span", "heatmap-ramp"));
  const stops = Array.from({ length: 11 }, (_, i) => {
    const t = i / 10;
    return `${cssColor(scale(minValue + t * (maxValue - minValue)))} ${100 * t}%`;
  });
  ramp.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  bar.appendChild(element("span", "heatmap-legend-label", max));
  return bar;
}

/** A legend of colour swatches: `entries` are `[[r, g, b] or a CSS background, text]`. */
export function swatches(parent, entries) {
  const legend = parent.appendChild(element("div", "heatmap-legend"));
  for (const [color, text] of entries) {
    const item = legend.appendChild(element("span", "heatmap-swatch-item"));
    item.appendChild(element("span", "heatmap-swatch")).style.background = Array.isArray(color) ? cssColor(color) : color;
    item.appendChild(element("span", "heatmap-legend-label", text));
  }
  return legend;
}

/** Relative luminance in [0, 1] of `[r, g, b]`, to pick dark or light text on a cell. */
export function luminance([r, g, b]) {
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

function isMissing(value) {
  return value === null || value === undefined || Number.isNaN(value);
}

function clamp01(t) {
  return Math.min(1, Math.max(0, t));
}

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}
