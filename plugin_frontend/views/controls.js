// Sidebar selectors: run, mode, layer / epoch, projection method (and t-SNE's perplexity and seed),
// how points and trails are drawn.

import { element } from "../dom.js";
import { COLOR_BY } from "./point_colors.js";

export const MODES = [
  ["layers", "Across layers"],
  ["epochs", "Across epochs"],
  ["neurons", "Neurons"],
  ["compare", "Compare"],
  ["gradients", "Gradients"],
  ["correlations", "Correlations"],
];
export const METHODS = [
  ["pca", "PCA (per frame)"],
  ["joint_pca", "PCA (shared axes)"],
  ["tsne", "t-SNE"],
];
const METHOD_HELP =
  "PCA (per frame): each projection's own principal axes, rotated onto its neighbour's. " +
  "PCA (shared axes): one basis for all epochs of a layer, so movements between epochs are exact " +
  "(across layers, whose widths differ, it is the same as per frame). " +
  "t-SNE: neighbourhoods kept, distances between clusters not meaningful.";
const PERPLEXITY_HELP =
  "t-SNE's perplexity: about how many neighbours each point keeps close, from 2 to 100 " +
  "(30 by default, as in the paper). Larger values show more of the global structure.";
const SEED_HELP = "t-SNE's random seed (an integer ≥ 0): another seed gives another layout, equally valid.";
/** Allowed values of the t-SNE inputs: `[min, max, integer only]`. */
export const TSNE_LIMITS = { perplexity: [2, 100, false], seed: [0, 999999999, true] };
export const NEURON_METHODS = [
  ["mds", "MDS"],
  ["tsne", "t-SNE"],
];
const TRAIL_COUNTS = [100, 250, 500, 1000, 2000, 5000, 20000];
const TRAIL_STYLES = [
  ["straight", "Straight"],
  ["bundled", "Bundled per class"],
];
const TRAIL_FILTERS = [
  ["sample", "A fixed sample"],
  ["misclassified", "Misclassified points"],
];
const DRAG_MODES = [
  ["select", "Select"],
  ["pan", "Pan"],
];
const DRAG_HELP = "Scroll on a plot to zoom, double-click to see all; Shift+drag does the other of select and pan.";
export const POINT_STYLES = [
  ["points", "Dots"],
  ["thumbnails", "Thumbnails"],
];

export function field(parent, labelText, control) {
  const wrapper = parent.appendChild(element("label", "field"));
  wrapper.appendChild(element("span", "field-label", labelText));
  wrapper.appendChild(control);
  return wrapper;
}

/** A number input of class `className` allowing `[min, max, integer]`, with a tooltip. */
function numberInput(className, [min, max, integer], help) {
  const input = element("input", className);
  Object.assign(input, { type: "number", min: String(min), max: String(max), step: integer ? "1" : "any", title: help });
  return input;
}

export function setOptions(select, pairs, selected) {
  select.replaceChildren(...pairs.map(([value, text]) => new Option(text, value)));
  select.value = String(selected);
}

export class Controls {
  /** @param {HTMLElement} parent @param {(change: object) => void} onChange */
  constructor(parent, onChange) {
    this.root = parent.appendChild(element("div", "controls"));
    this.run = element("select", "run-select");
    this.mode = element("div", "segmented");
    this.modeButtons = MODES.map(([value, text]) => {
      const button = this.mode.appendChild(element("button", "segment", text));
      button.dataset.mode = value;
      button.addEventListener("click", () => onChange({ mode: value }));
      return button;
    });
    this.layer = element("select", "layer-select");
    this.epoch = element("select", "epoch-select");
    this.method = element("select", "method-select");
    setOptions(this.method, METHODS, "pca");
    this.perplexity = numberInput("perplexity-input", TSNE_LIMITS.perplexity, PERPLEXITY_HELP);
    this.seed = numberInput("seed-input", TSNE_LIMITS.seed, SEED_HELP);
    this.trails = element("select", "trail-select");
    this.trailStyle = element("select", "trail-style-select");
    setOptions(this.trailStyle, TRAIL_STYLES, "straight");
    this.trailFilter = element("select", "trail-filter-select");
    setOptions(this.trailFilter, TRAIL_FILTERS, "sample");
    this.pointStyle = element("select", "point-style-select");
    setOptions(this.pointStyle, POINT_STYLES, "points");
    this.colorBy = element("select", "color-by-select");
    setOptions(this.colorBy, COLOR_BY, "class");
    this.colorLayer = element("select", "color-layer-select");
    this.colorNeuron = element("input", "color-neuron-input");
    Object.assign(this.colorNeuron, { type: "number", min: "0", step: "1", title: "The neuron (a conv layer's channel)" });
    this.dragMode = element("div", "segmented drag-mode");
    this.dragButtons = DRAG_MODES.map(([value, text]) => {
      const button = this.dragMode.appendChild(element("button", "segment", text));
      button.dataset.drag = value;
      button.addEventListener("click", () => onChange({ dragMode: value }));
      return button;
    });
    this.info = element("div", "run-info");

    field(this.root, "Run", this.run);
    field(this.root, "View", this.mode);
    this.layerField = field(this.root, "Layer", this.layer);
    this.epochField = field(this.root, "Epoch", this.epoch);
    this.methodField = field(this.root, "Projection", this.method);
    this.tsneFields = this.root.appendChild(element("div", "field-row tsne-fields"));
    field(this.tsneFields, "Perplexity", this.perplexity).title = PERPLEXITY_HELP;
    field(this.tsneFields, "Seed", this.seed).title = SEED_HELP;
    this.pointField = field(this.root, "Draw points as", this.pointStyle);
    this.colorField = field(this.root, "Colour points by", this.colorBy);
    this.neuronFields = this.root.appendChild(element("div", "field-row neuron-fields"));
    field(this.neuronFields, "Of layer", this.colorLayer);
    field(this.neuronFields, "Neuron", this.colorNeuron);
    this.dragField = field(this.root, "Drag on a plot to", this.dragMode);
    this.dragField.appendChild(element("span", "field-help", DRAG_HELP));
    this.trailFields = [
      field(this.root, "Trails", this.trails),
      field(this.root, "Trails of", this.trailFilter),
      field(this.root, "Trail shape", this.trailStyle),
    ];
    this.root.appendChild(this.info);

    this.run.addEventListener("change", () => onChange({ run: this.run.value }));
    this.layer.addEventListener("change", () => onChange({ layer: this.layer.value }));
    this.epoch.addEventListener("change", () => onChange({ epoch: Number(this.epoch.value) }));
    this.method.addEventListener("change", () =>
      onChange(this.neuronMode ? { neuronMethod: this.method.value } : { method: this.method.value }),
    );
    for (const name of ["perplexity", "seed"]) {
      this[name].addEventListener("change", () => {
        const value = Number(this[name].value);
        const [min, max, integer] = TSNE_LIMITS[name];
        const valid = this[name].value !== "" && value >= min && value <= max && (!integer || Number.isInteger(value));
        if (valid) onChange({ [name]: value });
        else this[name].value = String(this.shown[name]); // Back to the value in use.
      });
    }
    this.trails.addEventListener("change", () => onChange({ trailCount: Number(this.trails.value) }));
    this.trailStyle.addEventListener("change", () => onChange({ trailStyle: this.trailStyle.value }));
    this.trailFilter.addEventListener("change", () => onChange({ trailFilter: this.trailFilter.value }));
    this.pointStyle.addEventListener("change", () => onChange({ pointStyle: this.pointStyle.value }));
    this.colorBy.addEventListener("change", () => onChange({ colorBy: this.colorBy.value }));
    this.colorLayer.addEventListener("change", () => onChange({ colorLayer: this.colorLayer.value }));
    this.colorNeuron.addEventListener("change", () => {
      const value = Number(this.colorNeuron.value);
      const valid = Number.isInteger(value) && value >= 0 && value <= Number(this.colorNeuron.max);
      if (valid && this.colorNeuron.value !== "") onChange({ colorNeuron: value });
      else this.colorNeuron.value = String(this.shown.colorNeuron); // Back to the value in use.
    });
  }

  /**
   * Shows `state` (run, mode, layer, epoch, method, neuronMethod, perplexity, seed, trailCount,
   * trailStyle, trailFilter, pointStyle, colorBy, colorLayer, colorNeuron, dragMode) for the runs in `runs`.
   */
  update(runs, state) {
    this.shown = state;
    setOptions(this.run, Object.keys(runs).map((name) => [name, name]), state.run);
    const info = runs[state.run];
    const byName = Object.fromEntries(info.layer_info.map((layer) => [layer.name, layer]));
    setOptions(
      this.layer,
      info.layers.map((name) => [name, byName[name]?.dim ? `${name} (${byName[name].dim})` : name]),
      state.layer,
    );
    setOptions(this.epoch, info.epochs.map((epoch) => [epoch, String(epoch)]), state.epoch);
    this.neuronMode = state.mode === "neurons";
    if (this.neuronMode) setOptions(this.method, NEURON_METHODS, state.neuronMethod);
    else setOptions(this.method, METHODS, state.method);
    this.method.title = this.neuronMode ? "" : METHOD_HELP;
    const counts = TRAIL_COUNTS.filter((n) => n < info.num_points).concat(info.num_points);
    setOptions(
      this.trails,
      counts.map((n) => [n, n === info.num_points ? `all (${n})` : String(n)]),
      Math.min(state.trailCount, info.num_points),
    );
    for (const button of this.modeButtons) button.classList.toggle("active", button.dataset.mode === state.mode);
    // The last two modes show other loggers' data; the others need recorded activations.
    this.modeButtons.forEach((button, i) => {
      button.hidden = i < this.modeButtons.length - 2 ? !info.has_activations : !info[button.dataset.mode];
    });
    const loggerView = state.mode === "gradients" || state.mode === "correlations";
    this.methodField.hidden = loggerView;
    this.tsneFields.hidden = loggerView || this.neuronMode || state.method !== "tsne";
    for (const name of ["perplexity", "seed"]) {
      if (document.activeElement !== this[name]) this[name].value = String(state[name]); // Not while typed in.
    }
    this.layerField.hidden = state.mode === "layers" || state.mode === "compare" || loggerView;
    this.epochField.hidden = state.mode === "epochs" || state.mode === "compare" || loggerView;
    const trails = state.mode === "layers" || state.mode === "epochs";
    for (const trailField of this.trailFields) trailField.hidden = !trails;
    this.trailStyle.value = state.trailStyle;
    this.trailFilter.value = state.trailFilter;
    this.pointField.hidden = this.neuronMode || loggerView || !info.has_thumbnails;
    this.pointStyle.value = state.pointStyle;
    const scatter = !this.neuronMode && !loggerView;
    this.colorField.hidden = this.dragField.hidden = !scatter;
    this.colorBy.value = state.colorBy;
    this.neuronFields.hidden = !scatter || state.colorBy !== "neuron";
    setOptions(this.colorLayer, info.layers.map((name) => [name, name]), state.colorLayer);
    this.colorNeuron.max = String(Math.max(0, (byName[state.colorLayer]?.dim ?? 1) - 1));
    if (document.activeElement !== this.colorNeuron) this.colorNeuron.value = String(state.colorNeuron);
    for (const button of this.dragButtons) button.classList.toggle("active", button.dataset.drag === state.dragMode);
    this.info.textContent = {
      gradients: () => `${info.gradients.layers.length} layers · ${info.gradients.epochs.length} epochs of gradient statistics`,
      correlations: () => `${info.correlations.layers.length} layers · ${info.correlations.epochs.length} epochs of correlations`,
    }[state.mode]?.() ?? `${info.num_points} probe points · ${info.layers.length} layers · ${info.epochs.length} recorded epochs`;
  }
}
