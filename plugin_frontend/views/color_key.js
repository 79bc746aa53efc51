// What the points' colours mean when they are not the true class: the predicted class,
// correct or wrong, or one neuron's activation (a colour bar from its lowest to its highest value).

import { element } from "../dom.js";
import { colorBar, swatches } from "./heatmap.js";
import { isDark } from "../theme.js";
import { CORRECT, neuronScale, WRONG } from "./point_colors.js";

export class ColorKey {
  constructor(parent) {
    this.root = parent.appendChild(element("div", "color-key"));
    this.root.hidden = true;
  }

  /**
   * @param {string} colorBy @param {?{layer: string, neuron: number, epoch: number, min: number, max: number}} neuron
   *   The neuron's values on display (null while they load).
   * @param {?string} error Why the neuron's values could not be loaded.
   */
  show(colorBy, neuron = null, error = null) {
    this.shown = [colorBy, neuron, error];
    this.root.hidden = colorBy === "class";
    this.root.replaceChildren(element("span", "section-title", "Colours"));
    if (colorBy === "prediction") {
      this.root.appendChild(element("p", "hint", "The predicted class, in the class colours (the list below still filters by true class); grey: no prediction recorded."));
    } else if (colorBy === "correct") {
      swatches(this.root, [[CORRECT.rgb, "correct"], [WRONG.rgb, "wrong (drawn on top)"]]);
    } else if (colorBy === "neuron") {
      if (error) this.root.appendChild(element("p", "hint error", error));
      else if (!neuron) this.root.appendChild(element("p", "hint", "Loading the neuron's activations…"));
      else {
        colorBar(this.root, neuronScale(isDark()), {
          title: `${neuron.layer} · neuron ${neuron.neuron} · epoch ${neuron.epoch}`,
          min: formatValue(neuron.min), max: formatValue(neuron.max),
        });
      }
    }
  }

  /** Shows the same key again, in the colours of the current theme. */
  redraw() {
    if (this.shown) this.show(...this.shown);
  }
}

function formatValue(value) {
  return Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.01) ? value.toExponential(1) : value.toFixed(2);
}
