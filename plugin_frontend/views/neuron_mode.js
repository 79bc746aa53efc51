// Neurons of one layer at one epoch: a neuron projection coloured by the discriminative power
// for a chosen class, and the discriminative neuron map (hue = best class, opacity = importance).

import { element } from "../dom.js";
import { rgba, sequential, sequentialGradient } from "../colors.js";
import { NeuronPlot } from "./neuron_plot.js";

const TOP_CLASSES = 3;
const MIN_ALPHA = 0.08;

/** Fill of neuron `i` in a discriminative map: hue = best class, opacity = normalised importance. */
export function mapFill(neurons, colors) {
  return (i) => {
    const c = neurons.best[i];
    if (c < 0) return "rgba(189,189,189,0.6)";
    const max = neurons.classMax[c];
    return rgba(colors[c], Math.max(MIN_ALPHA, max > 0 ? neurons.importance[i * neurons.numClasses + c] / max : 0));
  };
}

/** Tooltip rows of neuron `i`: best class and its top importances, or "dead". */
export function describeNeuron(neurons, i, name) {
  const rows = [["Neuron", `#${neurons.indices[i]}`]];
  if (neurons.dead[i]) return rows.concat([["State", "dead (constant)"]]);
  const best = neurons.best[i];
  rows.push(["Best class", best >= 0 ? name(best) : "none"]);
  const scores = Array.from({ length: neurons.numClasses }, (_, c) => [c, neurons.importance[i * neurons.numClasses + c]]);
  scores.sort((a, b) => b[1] - a[1]);
  for (const [c, value] of scores.slice(0, TOP_CLASSES)) rows.push([name(c), value.toFixed(3)]);
  return rows;
}

export class NeuronMode {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "mode neuron-mode"));
    const describe = (i) => this.describe(i);

    const projectionCard = this.root.appendChild(element("section", "card neuron-card"));
    this.projection = new NeuronPlot(projectionCard, display, describe);
    const bar = projectionCard.appendChild(element("div", "ramp color-bar"));
    bar.appendChild(element("span", "ramp-label", "Discriminative power for"));
    this.classSelect = bar.appendChild(element("select", "class-select"));
    this.classSelect.addEventListener("change", () => this.showProjection());
    this.rampStart = bar.appendChild(element("span", "ramp-label", "0"));
    this.rampBar = bar.appendChild(element("span", "ramp-bar"));
    this.rampEnd = bar.appendChild(element("span", "ramp-label"));

    const mapCard = this.root.appendChild(element("section", "card neuron-card"));
    this.map = new NeuronPlot(mapCard, display, describe);
    mapCard.appendChild(
      element("div", "ramp", "Hue: the class a neuron helps most to tell apart; opacity: its importance / the largest for that class."),
    );
    this.neurons = null;
  }

  /**
   * @param {object} neurons From `buildNeurons`.
   * @param {{layer: string, epoch: number, methodName: string, classNames: string[], selectedClass: number}} context
   */
  show(neurons, { layer, epoch, methodName, classNames, selectedClass }) {
    this.neurons = neurons;
    this.context = { layer, epoch, methodName };
    this.name = (c) => classNames[c] ?? String(c);
    this.classSelect.replaceChildren(
      ...Array.from({ length: neurons.numClasses }, (_, c) => new Option(this.name(c), String(c))),
    );
    this.classSelect.value = String(Math.min(selectedClass ?? 0, neurons.numClasses - 1));
    this.showProjection();
    this.map.show(neurons, `Discriminative neuron map of ${layer} at epoch ${epoch}`, mapFill(neurons, this.display.colors));
  }

  /** The projection coloured by the discriminative power for the selected class. */
  showProjection() {
    const neurons = this.neurons;
    const c = this.selectedClass;
    const color = this.display.colors[c];
    const max = neurons.classMax[c];
    this.rampBar.style.background = sequentialGradient(color);
    this.rampEnd.textContent = max.toFixed(3);
    const { layer, epoch, methodName } = this.context;
    this.projection.show(neurons, `${methodName} of the neurons of ${layer} at epoch ${epoch}`, (i) =>
      sequential(color, max > 0 ? neurons.importance[i * neurons.numClasses + c] / max : 0),
    );
  }

  /** The class the projection is coloured for (kept when the data reloads). */
  get selectedClass() {
    return Number(this.classSelect.value) || 0;
  }

  describe(i) {
    return describeNeuron(this.neurons, i, this.name);
  }

  redraw() {
    this.projection.draw();
    this.map.draw();
  }
}
