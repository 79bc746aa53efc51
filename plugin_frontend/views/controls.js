// Sidebar selectors: run, mode, layer / epoch, projection method, how points and trails are drawn.

import { element } from "../dom.js";

const MODES = [
  ["layers", "Across layers"],
  ["epochs", "Across epochs"],
  ["neurons", "Neurons"],
  ["compare", "Compare"],
  ["gradients", "Gradients"],
  ["correlations", "Correlations"],
];
const METHODS = [
  ["pca", "PCA"],
  ["tsne", "t-SNE"],
];
const NEURON_METHODS = [
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
const POINT_STYLES = [
  ["points", "Dots"],
  ["thumbnails", "Thumbnails"],
];

export function field(parent, labelText, control) {
  const wrapper = parent.appendChild(element("label", "field"));
  wrapper.appendChild(element("span", "field-label", labelText));
  wrapper.appendChild(control);
  return wrapper;
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
    this.trails = element("select", "trail-select");
    this.trailStyle = element("select", "trail-style-select");
    setOptions(this.trailStyle, TRAIL_STYLES, "straight");
    this.trailFilter = element("select", "trail-filter-select");
    setOptions(this.trailFilter, TRAIL_FILTERS, "sample");
    this.pointStyle = element("select", "point-style-select");
    setOptions(this.pointStyle, POINT_STYLES, "points");
    this.info = element("div", "run-info");

    field(this.root, "Run", this.run);
    field(this.root, "View", this.mode);
    this.layerField = field(this.root, "Layer", this.layer);
    this.epochField = field(this.root, "Epoch", this.epoch);
    this.methodField = field(this.root, "Projection", this.method);
    this.pointField = field(this.root, "Draw points as", this.pointStyle);
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
    this.trails.addEventListener("change", () => onChange({ trailCount: Number(this.trails.value) }));
    this.trailStyle.addEventListener("change", () => onChange({ trailStyle: this.trailStyle.value }));
    this.trailFilter.addEventListener("change", () => onChange({ trailFilter: this.trailFilter.value }));
    this.pointStyle.addEventListener("change", () => onChange({ pointStyle: this.pointStyle.value }));
  }

  /**
   * Shows `state` (run, mode, layer, epoch, method, neuronMethod, trailCount, trailStyle,
   * trailFilter, pointStyle) for the runs in `runs`.
   */
  update(runs, state) {
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
    this.layerField.hidden = state.mode === "layers" || state.mode === "compare" || loggerView;
    this.epochField.hidden = state.mode === "epochs" || state.mode === "compare" || loggerView;
    const trails = state.mode === "layers" || state.mode === "epochs";
    for (const trailField of this.trailFields) trailField.hidden = !trails;
    this.trailStyle.value = state.trailStyle;
    this.trailFilter.value = state.trailFilter;
    this.pointField.hidden = this.neuronMode || loggerView || !info.has_thumbnails;
    this.pointStyle.value = state.pointStyle;
    this.info.textContent = {
      gradients: () => `${info.gradients.layers.length} layers · ${info.gradients.epochs.length} epochs of gradient statistics`,
      correlations: () => `${info.correlations.layers.length} layers · ${info.correlations.epochs.length} epochs of correlations`,
    }[state.mode]?.() ?? `${info.num_points} probe points · ${info.layers.length} layers · ${info.epochs.length} recorded epochs`;
  }
}
