// Side-by-side comparison of two (run, layer, epoch) selections: e.g. before vs after training,
// or one layer of two models. Each side shows its projection with its neighborhood hit and its
// discriminative neuron map; when both sides have the same probe points, the right projection
// is rotated onto the left one so that the same regions face each other (unless both share their
// PCA axes: the same layer with "PCA (shared axes)"). The shared display state
// (class filter, selection, thumbnails) belongs to the sidebar's run: a side that shows other
// points gets a display of its own.

import { fetchNeurons, fetchProjection } from "../api.js";
import { classColors } from "../colors.js";
import { alignTo, buildNeurons, buildSequence } from "../data.js";
import { element } from "../dom.js";
import { field, setOptions } from "./controls.js";
import { swatches } from "./heatmap.js";
import { describeNeuron, mapFill } from "./neuron_mode.js";
import { NeuronPlot } from "./neuron_plot.js";
import { ScatterView } from "./scatter.js";

const NEURON_METHOD = "mds";

class Side {
  constructor(parent, display, name, onChange) {
    this.card = parent.appendChild(element("section", `card compare-card compare-${name}`));
    const selectors = this.card.appendChild(element("div", "compare-selectors"));
    this.run = element("select", "compare-run");
    this.layer = element("select", "compare-layer");
    this.epoch = element("select", "compare-epoch");
    field(selectors, "Run", this.run);
    field(selectors, "Layer", this.layer);
    field(selectors, "Epoch", this.epoch);
    for (const select of [this.run, this.layer, this.epoch]) select.addEventListener("change", () => onChange(this));
    this.scatter = new ScatterView(this.card, display, "large");
    this.legend = this.card.appendChild(element("div", "compare-legend")); // Of a display of its own.
    this.map = new NeuronPlot(this.card, display, (i) => describeNeuron(this.neurons, i, this.name));
    this.neurons = null;
  }

  /** Fills the selectors for `runs`, keeping `choice` ({run, layer, epoch}) where it is valid. */
  setChoice(runs, choice) {
    const names = Object.keys(runs).filter((name) => runs[name].has_activations);
    const run = names.includes(choice.run) ? choice.run : names[0];
    const { layers, epochs } = runs[run];
    setOptions(this.run, names.map((name) => [name, name]), run);
    setOptions(this.layer, layers.map((name) => [name, name]), layers.includes(choice.layer) ? choice.layer : layers[0]);
    setOptions(this.epoch, epochs.map((e) => [e, String(e)]), epochs.includes(choice.epoch) ? choice.epoch : epochs[0]);
  }

  /** Draws with `display` from now on (both plots). */
  use(display) {
    this.scatter.display = this.map.display = display;
  }

  get choice() {
    return { run: this.run.value, layer: this.layer.value, epoch: Number(this.epoch.value) };
  }
}

export class CompareMode {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state.
   * @param {object} status The status line, for progress and errors.
   * @param {(counts: number[]) => void} onCounts Called with the points per class once known.
   */
  constructor(parent, display, status, onCounts) {
    this.display = display;
    this.status = status;
    this.onCounts = onCounts;
    this.root = parent.appendChild(element("div", "mode compare-mode"));
    this.note = this.root.appendChild(element("div", "gradient-note compare-note"));
    const onChange = (side) => {
      side.setChoice(this.runs, side.choice);
      this.load();
    };
    this.sides = ["left", "right"].map((name) => new Side(this.root, display, name, onChange));
    this.key = null;
    this.request = null;
  }

  /**
   * Shows `choices` ([left, right] of {run, layer, epoch}) unless the user has chosen already.
   * @param {object} runs From ./runs.
   * @param {{method: string, perplexity?: number, seed?: number}} params Of the projections.
   * @param {{run: string, methodName: string}} context The sidebar's run; the method's name.
   */
  update(runs, choices, params, context) {
    this.runs = runs;
    this.params = params;
    this.context = context;
    this.sides.forEach((side, i) => side.setChoice(runs, this.key ? side.choice : choices[i]));
    this.load();
  }

  async load() {
    const choices = this.sides.map((side) => side.choice);
    const key = JSON.stringify([choices, this.params]);
    if (key === this.key) return;
    this.key = key;
    this.request?.abort();
    const request = (this.request = new AbortController());
    const done = [0, 0, 0, 0];
    const onProgress = (i) => (fraction) => {
      done[i] = fraction;
      this.status.progress(done.reduce((a, b) => a + b) / 4, "Computing the projections and discriminative maps to compare…");
    };
    onProgress(0)(0);
    this.root.classList.add("stale");
    try {
      const results = await Promise.all(
        choices.flatMap((choice, i) => [
          fetchProjection({ ...choice, ...this.params }, {
            signal: request.signal, onProgress: (body) => onProgress(2 * i)(body.progress ?? 0),
          }),
          fetchNeurons({ ...choice, method: NEURON_METHOD }, { signal: request.signal, onProgress: onProgress(2 * i + 1) }),
        ]),
      );
      this.show(choices, results);
      this.status.clear();
    } catch (error) {
      if (error.name === "AbortError") return;
      this.key = null;
      this.status.message(`Could not load the comparison: ${error.message}`, "error");
    } finally {
      if (this.request === request) this.root.classList.remove("stale");
    }
  }

  show(choices, [leftPoints, leftNeurons, rightPoints, rightNeurons]) {
    const points = [leftPoints, rightPoints];
    const samePoints = leftPoints.labels.length === rightPoints.labels.length &&
      leftPoints.labels.every((label, i) => label === rightPoints.labels[i]);
    const mainSide = choices.findIndex((choice) => choice.run === this.context.run);
    const displays = choices.map(({ run }, i) =>
      this.sideDisplay(run, i === mainSide || (mainSide >= 0 && samePoints) ? null : points[i].labels));
    const sequences = points.map((json, i) => buildSequence({ labels: json.labels, frames: [json] }, displays[i].colors.length));
    if (mainSide >= 0) this.onCounts(sequences[mainSide].counts);
    const [left, right] = sequences.map((sequence) => sequence.frames[0]);
    // One PCA basis for all epochs of a layer: both sides are drawn as computed, at one scale.
    const sharedAxes = this.params.method === "joint_pca" && choices[0].run === choices[1].run &&
      choices[0].layer === choices[1].layer;
    if (sharedAxes) sequences[0].extent = sequences[1].extent = Math.max(...sequences.map((sequence) => sequence.extent));
    else if (samePoints) right.xy = alignTo(left.xy, right.xy);
    this.note.textContent = sharedAxes
      ? "Both sides share their PCA axes (one basis for all epochs of the layer): drawn as computed, at one scale."
      : samePoints
      ? "Same probe points on both sides: the right projection is rotated (or mirrored) onto the left one."
      : `The sides have different probe points (${leftPoints.labels.length} and ${rightPoints.labels.length}): ` +
        `the projections are not aligned, and the class filter, selection and thumbnails apply only to the points of ${this.context.run}.`;
    this.sides.forEach((side, i) => {
      const { run, layer, epoch } = choices[i];
      const display = displays[i];
      side.use(display);
      side.legend.replaceChildren();
      if (display.colors !== this.display.colors) {
        swatches(side.legend, display.legendItems().map(({ name, label }) => [display.colors[label].rgb, name]));
      }
      side.scatter.show(sequences[i], { ...sequences[i].frames[0], title: `${this.context.methodName} of ${run} / ${layer} at epoch ${epoch}` });
      side.neurons = buildNeurons([leftNeurons, rightNeurons][i], display.colors.length);
      side.name = (c) => display.classNames[c] ?? String(c);
      side.map.show(side.neurons, `Discriminative neuron map of ${run} / ${layer} at epoch ${epoch}`, mapFill(side.neurons, display.colors));
    });
  }

  /**
   * The display state of a side showing `run`: the shared one if `labels` is null, else one of its
   * own for those points (all classes shown, in their own colours; no selection, no thumbnails).
   * Either way its tooltip names the side's run and classes.
   */
  sideDisplay(run, labels) {
    const { class_names: classNames, has_thumbnails: hasThumbnails } = this.runs[run];
    const shared = this.display;
    const tooltip = Object.create(shared.tooltip, {
      show: { value: (...args) => { shared.tooltip.setContext({ run, classNames, hasThumbnails }); shared.tooltip.show(...args); } },
    });
    if (labels === null) return Object.create(shared, { tooltip: { value: tooltip } });
    const count = labels.reduce((max, label) => Math.max(max, label + 1), classNames.length);
    return Object.create(shared, {
      tooltip: { value: tooltip }, classNames: { value: classNames }, colors: { value: classColors(count) },
      visible: { value: new Array(count).fill(true) }, selection: { value: null }, atlas: { value: null },
      select: { value: () => this.redraw() },
    });
  }

  redraw() {
    for (const side of this.sides) {
      side.scatter.draw();
      side.map.draw();
    }
  }
}
