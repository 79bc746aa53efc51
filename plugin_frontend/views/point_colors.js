// What a scatter plot's points are coloured by: the true class, the predicted class, correct or
// wrong, or one neuron's activation (a sequential scale). One sprite per colour, remade only
// when the radius, the palette, the theme or the mode changes.

import { rgba, NEUTRAL } from "../colors.js";
import { discSprite } from "../plot.js";

export const COLOR_BY = [
  ["class", "True class"],
  ["prediction", "Predicted class"],
  ["correct", "Correct or wrong"],
  ["neuron", "A neuron's activation"],
];
export const CORRECT = { hex: "#90a4ae", rgb: [144, 164, 174] };
export const WRONG = { hex: "#e53935", rgb: [229, 57, 53] };
const POINT_ALPHA = 0.65;
const FADED_ALPHA = 0.18;
const NEURON_BINS = 32;
// Viridis at five stops: ordered in lightness, readable on light and dark backgrounds.
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** `[r, g, b]` of viridis at `t` in [0, 1]. */
function viridis(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  return VIRIDIS[i].map((c, k) => Math.round(c + (VIRIDIS[i + 1][k] - c) * (x - i)));
}

/**
 * The neuron scale, `t` in [0, 1] -> `[r, g, b]`: viridis, without its darkest fifth on a dark
 * background (where it would vanish).
 */
export function neuronScale(dark) {
  return dark ? (t) => viridis(0.2 + 0.8 * t) : viridis;
}

/** Few selected points (at most 20) are drawn large and outlined; more only a little larger. */
export const FEW_SELECTED = 20;

export function selectedRadius(radius, count) {
  return count <= FEW_SELECTED ? Math.max(4.5, 2.5 * radius) : 1.3 * radius;
}

/**
 * Colour index of each point under `colorBy` (into `PointSprites.colors`), -1 for neutral grey.
 * @param {Int32Array} labels @param {?number[]} predictions
 * @param {?{values: Float32Array, min: number, max: number}} neuron Activations when colouring by a neuron.
 */
export function colorIndex(colorBy, labels, predictions, neuron) {
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    if (colorBy === "prediction") out[i] = predictions ? predictions[i] : -1;
    else if (colorBy === "correct") out[i] = predictions ? Number(predictions[i] !== labels[i]) : -1;
    else if (colorBy === "neuron") {
      const { values, min, max } = neuron ?? {};
      out[i] = values ? Math.min(NEURON_BINS - 1, Math.floor((NEURON_BINS * (values[i] - min)) / (max - min || 1))) : -1;
    } else out[i] = labels[i];
  }
  return out;
}

/**
 * The palette of `colorBy` (`{rgb}` each: class colours, correct/wrong, or the neuron scale), and
 * its opacity; `dark`: for a dark background.
 */
export function palette(colorBy, classColors, dark) {
  if (colorBy === "correct") return { colors: [CORRECT, WRONG], alpha: 0.85 };
  if (colorBy === "neuron") {
    const scale = neuronScale(dark);
    return { colors: Array.from({ length: NEURON_BINS }, (_, i) => ({ rgb: scale((i + 0.5) / NEURON_BINS) })), alpha: 0.85 };
  }
  return { colors: classColors, alpha: POINT_ALPHA };
}

/** Sprites of one plot: `colors[c]`, `neutral`, `faded`, and outlined `selected[c]`/`selectedNeutral`. */
export class PointSprites {
  get(key, make) {
    const text = JSON.stringify(key.slice(1));
    if (this.key?.[0] !== key[0] || this.text !== text) {
      [this.key, this.text, this.value] = [key, text, make()];
    }
    return this.value;
  }

  /**
   * @param {{colors: object[], alpha: number}} palette From `palette`. @param {number} radius
   * @param {number} bigRadius Of selected points. @param {?string} outline CSS colour of their outline (or none).
   */
  sprites({ colors, alpha }, radius, bigRadius, outline) {
    return this.get([colors, radius, bigRadius, outline], () => ({
      colors: colors.map((color) => discSprite(rgba(color, alpha), radius)),
      neutral: discSprite(rgba(NEUTRAL, 0.45), radius),
      faded: discSprite(rgba(NEUTRAL, FADED_ALPHA), radius),
      selected: colors.map((color) => discSprite(rgba(color, 1), bigRadius, outline)),
      selectedNeutral: discSprite(rgba(NEUTRAL, 1), bigRadius, outline),
    }));
  }
}
