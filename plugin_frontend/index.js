// The nnviz tab: selectors and class legend on the left, the evolution views on the right.
// TensorBoard serves this file at ./index.js and the other modules at ./static/<path>.

import { fetchEvolution, fetchNeurons, fetchRuns } from "./static/api.js";
import { classColors } from "./static/colors.js";
import { buildNeurons, buildSequence } from "./static/data.js";
import { element } from "./static/dom.js";
import { Controls } from "./static/views/controls.js";
import { EpochMode } from "./static/views/epoch_mode.js";
import { LayerMode } from "./static/views/layer_mode.js";
import { Legend } from "./static/views/legend.js";
import { NeuronMode } from "./static/views/neuron_mode.js";
import { Status } from "./static/views/status.js";
import { Tooltip } from "./static/views/tooltip.js";

const RUNS_POLL_MS = 10000;
const MAX_EPOCH_FRAMES = 24;
const DEFAULT_TRAILS = 500;
const METHOD_NAMES = { pca: "PCA", tsne: "t-SNE", mds: "MDS" };
const NO_DATA =
  "No nnviz data yet. Add nnviz_tb.ActivationLogger(log_dir, probe=(x, y)) to the callbacks " +
  "of model.fit; this tab checks for new data every 10 seconds.";

export async function render() {
  const link = document.head.appendChild(document.createElement("link"));
  link.rel = "stylesheet";
  link.href = "./static/style.css";
  const app = new App(document.body);
  await app.refreshRuns();
  setInterval(() => app.refreshRuns(), RUNS_POLL_MS);
}

/** Up to `limit` evenly spaced items of `items`, always with the first and the last. */
function spread(items, limit) {
  if (items.length <= limit) return items;
  const picked = new Set(Array.from({ length: limit }, (_, i) => Math.round((i * (items.length - 1)) / (limit - 1))));
  return [...picked].map((i) => items[i]);
}

class App {
  constructor(body) {
    const root = body.appendChild(element("div", "nnviz"));
    this.sidebar = root.appendChild(element("aside", "sidebar"));
    const main = root.appendChild(element("main", "main"));
    this.controls = new Controls(this.sidebar, (change) => this.change(change));
    this.legend = new Legend(this.sidebar, () => this.view?.redraw());
    this.status = new Status(main);
    this.content = main.appendChild(element("div", "content"));
    this.display = { colors: [], visible: this.legend.visible, trailCount: DEFAULT_TRAILS, tooltip: new Tooltip(body) };
    this.state = {
      run: null, mode: "layers", method: "pca", neuronMethod: "mds", layer: null, epoch: null, trailCount: DEFAULT_TRAILS,
    };
    this.runs = {};
    this.view = null;
    this.requestKey = null;
    this.request = null;
  }

  /** Reads the list of runs; new epochs appear while the user's selection stays. */
  async refreshRuns() {
    try {
      this.runs = await fetchRuns();
    } catch (error) {
      this.status.message(`Could not list the runs: ${error.message}`, "error");
      return;
    }
    const names = Object.keys(this.runs);
    this.sidebar.hidden = names.length === 0;
    if (!names.length) {
      this.showView(null);
      this.status.message(NO_DATA);
      return;
    }
    this.selectRun(this.state.run in this.runs ? this.state.run : names[0]);
    this.update();
  }

  /** Makes the layer and epoch selection valid for `run`, keeping them where possible. */
  selectRun(run) {
    const { layers, epochs } = this.runs[run];
    const state = this.state;
    state.run = run;
    if (!layers.includes(state.layer)) state.layer = layers[Math.max(0, layers.length - 2)];
    if (!epochs.includes(state.epoch)) state.epoch = epochs[epochs.length - 1];
  }

  change(change) {
    if (change.mode && this.state.mode === "epochs" && this.view?.epoch != null) this.state.epoch = this.view.epoch;
    Object.assign(this.state, change);
    if (change.run) this.selectRun(change.run);
    if (change.trailCount) {
      this.display.trailCount = change.trailCount;
      this.view?.redraw();
    }
    this.update();
  }

  update() {
    this.controls.update(this.runs, this.state);
    this.load();
  }

  /** The ./evolution (or, for neurons, ./neurons) parameters of the current selection. */
  query() {
    const { run, mode, method, neuronMethod, layer, epoch } = this.state;
    if (mode === "neurons") return { run, over: "neurons", method: neuronMethod, layer, epoch };
    if (mode === "layers") return { run, over: "layers", method, epoch };
    return { run, over: "epochs", method, layer, epochs: spread(this.runs[run].epochs, MAX_EPOCH_FRAMES) };
  }

  /** Fetches the frames of the current selection unless they are shown or on their way. */
  async load() {
    const query = this.query();
    const key = JSON.stringify([query, this.runs[query.run].layers]);
    if (key === this.requestKey) return;
    this.request?.abort();
    const request = (this.request = new AbortController());
    this.requestKey = key;
    const methodName = METHOD_NAMES[query.method];
    this.content.classList.add("stale");
    if (query.over === "neurons") {
      this.loadNeurons(query, request.signal);
      return;
    }
    this.status.progress(0, `Loading ${methodName} projections…`);
    try {
      const json = await fetchEvolution(query, {
        signal: request.signal,
        onProgress: (fraction, total) =>
          this.status.progress(
            fraction,
            `Computing ${methodName} projections of ${total} frame${total > 1 ? "s" : ""}… ${Math.round(100 * fraction)}%`,
          ),
      });
      this.show(json, query);
      if (query.over === "layers" && json.frames.length < this.runs[query.run].layers.length) {
        this.requestKey = null; // The epoch is still being written: fetch again on the next poll.
      }
    } catch (error) {
      if (error.name === "AbortError") return;
      this.requestKey = null;
      this.showView(null);
      this.status.message(`Could not load the projections: ${error.message}`, "error");
    }
  }

  /** Fetches and shows the neurons of one layer at one epoch. */
  async loadNeurons(query, signal) {
    const what = `${METHOD_NAMES[query.method]} of the neurons and their discriminative power`;
    this.status.progress(0, `Computing ${what}…`);
    try {
      const json = await fetchNeurons(query, {
        signal,
        onProgress: (fraction) => this.status.progress(fraction, `Computing ${what}… ${Math.round(100 * fraction)}%`),
      });
      this.showNeurons(json, query);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.requestKey = null;
      this.showView(null);
      this.status.message(`Could not load the neurons: ${error.message}`, "error");
    }
  }

  showNeurons(json, query) {
    const info = this.runs[query.run];
    const neurons = buildNeurons(json, info.class_names.length);
    this.setClasses(json.class_names, neurons.numClasses, neurons.counts);
    const selectedClass = this.view instanceof NeuronMode ? this.view.selectedClass : 0;
    this.showView(new NeuronMode(this.content, this.display));
    this.view.show(neurons, {
      layer: query.layer, epoch: query.epoch, methodName: METHOD_NAMES[query.method],
      classNames: json.class_names, selectedClass,
    });
    this.status.clear();
  }

  show(json, query) {
    const info = this.runs[query.run];
    const sequence = buildSequence(json, info.class_names.length);
    this.setClasses(info.class_names, sequence.numClasses, sequence.counts);
    this.display.tooltip.setContext({ run: query.run, classNames: info.class_names, hasThumbnails: info.has_thumbnails });
    const epoch = query.over === "epochs" && this.view instanceof EpochMode ? this.view.epoch ?? this.state.epoch : this.state.epoch;
    this.showView(query.over === "layers" ? new LayerMode(this.content, this.display) : new EpochMode(this.content, this.display));
    this.view.show(sequence, { epoch, layer: query.layer, methodName: METHOD_NAMES[query.method] });
    this.status.clear();
  }

  /** Class colours and the legend (`counts`: points, or neurons by best class, per class). */
  setClasses(names, numClasses, counts) {
    this.display.colors = classColors(numClasses);
    this.legend.update(names, this.display.colors, counts);
    this.display.visible = this.legend.visible;
  }

  showView(view) {
    this.content.replaceChildren(...(view ? [view.root] : []));
    this.content.classList.remove("stale");
    this.view = view;
  }
}
