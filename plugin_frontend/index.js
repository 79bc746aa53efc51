// The nnviz tab: selectors and class legend on the left, the evolution views on the right.
// TensorBoard serves this file at ./index.js and the other modules at ./static/<path>.

import { fetchEvolution, fetchNeurons, fetchRuns, fetchThumbnailAtlas } from "./static/api.js";
import { classColors } from "./static/colors.js";
import { buildNeurons, buildSequence } from "./static/data.js";
import { element } from "./static/dom.js";
import { NeuronValues } from "./static/neuron_values.js";
import { followTheme } from "./static/theme.js";
import { readUrlState, writeUrlState } from "./static/url_state.js";
import { ColorKey } from "./static/views/color_key.js";
import { CompareMode } from "./static/views/compare_mode.js";
import { Controls } from "./static/views/controls.js";
import { CorrelationMode } from "./static/views/correlation_mode.js";
import { Detail } from "./static/views/detail.js";
import { EpochMode } from "./static/views/epoch_mode.js";
import { GradientMode } from "./static/views/gradient_mode.js";
import { LayerMode } from "./static/views/layer_mode.js";
import { Legend } from "./static/views/legend.js";
import { NeuronMode } from "./static/views/neuron_mode.js";
import { Notes } from "./static/views/notes.js";
import { Status, describeProgress } from "./static/views/status.js";
import { Tooltip } from "./static/views/tooltip.js";

const RUNS_POLL_MS = 10000;
const MAX_EPOCH_FRAMES = 24;
const DEFAULT_TRAILS = 500;
const METHOD_NAMES = { pca: "PCA", joint_pca: "PCA (shared axes)", tsne: "t-SNE", mds: "MDS" };
const NO_ACTIVATIONS = (run) =>
  `Run ${run} has no recorded activations (another nnviz logger wrote it). ` +
  "Add nnviz_tb.ActivationLogger(log_dir, probe=(x, y)) to model.fit for these views.";
const UNREADABLE = (run) => `Run ${run} has nothing this tab can read: see the notes above.`;
const SKIPPED_NAMES =
  "TensorBoard's default loader skips runs whose directory name contains \", \\, a tab or a newline: " +
  "rename such a directory, or start TensorBoard with --load_fast=false.";
const NO_DATA =
  "No nnviz data yet. Add nnviz_tb.ActivationLogger(log_dir, probe=(x, y)) to the callbacks " +
  "of model.fit; this tab checks for new data every 10 seconds. " + SKIPPED_NAMES;

export async function render() {
  const link = document.head.appendChild(document.createElement("link"));
  link.rel = "stylesheet";
  link.href = "./static/style.css";
  const app = new App(document.body);
  followTheme(() => {
    app.view?.redraw();
    app.colorKey.redraw();
  });
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
    this.colorKey = new ColorKey(this.sidebar);
    this.legend = new Legend(this.sidebar, () => this.view?.redraw());
    this.detail = new Detail(this.sidebar, () => this.select(null), (this.events = new EventTarget()));
    this.sidebar.appendChild(element("p", "hint", `A run missing? ${SKIPPED_NAMES}`));
    this.notes = new Notes(main);
    this.viewNotes = [];
    this.status = new Status(main);
    this.content = main.appendChild(element("div", "content"));
    this.state = {
      run: null, mode: "layers", method: "pca", neuronMethod: "mds", perplexity: 30, seed: 0, layer: null, epoch: null,
      trailCount: DEFAULT_TRAILS, trailStyle: "straight", trailFilter: "sample", pointStyle: "points",
      colorBy: "class", colorLayer: null, colorNeuron: 0, dragMode: "select",
    };
    this.display = {
      colors: [], classNames: [], visible: this.legend.visible, tooltip: new Tooltip(body),
      trailCount: DEFAULT_TRAILS, trailFilter: "sample", pointStyle: "points", atlas: null, selection: null,
      select: (points) => this.select(points),
      colorBy: "class", dragMode: "select", events: this.events, // "hover", "epoch-shown".
      neuronValues: (epoch) => this.neuronValues(epoch ?? this.state.epoch),
      legendItems() { // A method: displays derived from this one (compare mode) list their own classes.
        return this.colors
          .map((color, label) => ({ name: this.classNames[label] ?? String(label), hex: color.hex, label }))
          .filter(({ label }) => this.visible[label]);
      },
    };
    this.defaults = { ...this.state };
    const restored = readUrlState(); // A reloaded or shared view.
    Object.assign(this.state, restored.state, { epochChosen: "epoch" in restored.state });
    Object.assign(this.display, { colorBy: this.state.colorBy, pointStyle: this.state.pointStyle });
    this.restoredSelection = restored.selection;
    this.colorKey.show(this.state.colorBy);
    this.selected = null;
    this.shownRun = null;
    this.runs = {};
    this.view = null;
    this.requestKey = null;
    this.request = null;
    this.neurons = new NeuronValues(
      (answer) => {
        this.colorKey.show(this.state.colorBy, answer);
        this.view?.redraw();
      },
      (message, { epoch }) => {
        if (epoch === this.state.epoch) this.colorKey.show(this.state.colorBy, null, message);
      },
    );
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

  /**
   * Makes the layer and epoch selection valid for `run`, keeping them where possible; unless the
   * user chose an epoch, the latest one (a run in training is followed).
   */
  selectRun(run) {
    const { layers, epochs } = this.runs[run];
    const state = this.state;
    if (this.shownRun !== run) {
      this.shownRun = run;
      this.loadAtlas(run);
      if (!this.runs[run].has_activations) {
        state.mode = this.runs[run].gradients ? "gradients" : this.runs[run].correlations ? "correlations" : state.mode;
      }
    }
    state.run = run;
    if (!layers.includes(state.layer)) state.layer = layers[Math.max(0, layers.length - 2)];
    if (!epochs.includes(state.epoch) || !state.epochChosen) state.epoch = epochs[epochs.length - 1];
    if (!layers.includes(state.colorLayer)) state.colorLayer = state.layer;
  }

  change(change) {
    if (change.mode && this.state.mode === "epochs" && this.view?.wantedByUser) {
      Object.assign(this.state, { epoch: this.view.epoch, epochChosen: true }); // The player's epoch.
    }
    if ("epoch" in change) this.state.epochChosen = true;
    const { run, ...rest } = change;
    Object.assign(this.state, rest);
    if (run) this.selectRun(run); // Before state.run changes: it loads the new run's atlas.
    if ("colorBy" in change || "colorLayer" in change || "colorNeuron" in change || run) {
      this.neurons.clear(); // Another neuron: fetched again.
      this.colorKey.show(this.state.colorBy);
    }
    document.body.classList.toggle("drag-pan", this.state.dragMode === "pan");
    const shown = ["trailCount", "trailFilter", "pointStyle", "colorBy", "dragMode"].filter((key) => key in change);
    for (const key of shown) this.display[key] = change[key];
    if (shown.length || "colorLayer" in change || "colorNeuron" in change) this.view?.redraw();
    this.update();
  }

  /** The values of the neuron chosen in "Colour points by" at `epoch`, or null while they load. */
  neuronValues(epoch) {
    const { run, colorLayer: layer, colorNeuron: neuron } = this.state;
    return this.neurons.get({ run, layer, neuron, epoch });
  }

  /** Loads the thumbnail atlas of `run` (drawn by the "Thumbnails" point style). */
  async loadAtlas(run) {
    this.display.atlas = null;
    this.select(null);
    const info = this.runs[run];
    if (!info.has_thumbnails) return;
    try {
      const image = await fetchThumbnailAtlas(run);
      if (this.state.run !== run) return;
      const [tileHeight, tileWidth] = info.thumbnail_shape;
      this.display.atlas = { image, tileWidth, tileHeight, columns: Math.max(1, Math.ceil(Math.sqrt(info.num_points))) };
      this.view?.redraw();
    } catch (error) {
      this.status.message(error.message, "error");
    }
  }

  /** Selects `points` (indices, or null for none) in every view, and details them. */
  select(points) {
    this.selected = points;
    writeUrlState(this.urlState(), points);
    const count = this.runs[this.state.run]?.num_points ?? 0;
    this.display.selection = points && Uint8Array.from({ length: count }, () => 0);
    for (const i of points ?? []) this.display.selection[i] = 1;
    const sequence = this.view?.sequence ?? this.view?.sides?.[0].scatter.sequence;
    if (sequence) {
      const info = this.runs[this.state.run];
      this.detail.show(points, {
        run: this.state.run, labels: sequence.labels, classNames: info.class_names,
        hasThumbnails: info.has_thumbnails, saliency: info.saliency, frames: sequence.frames.filter(Boolean),
      });
    } else this.detail.show(null, {});
    this.view?.redraw();
  }

  update() {
    this.controls.update(this.runs, this.state);
    writeUrlState(this.urlState(), this.selected);
    this.showNotes();
    this.load();
  }

  /** The selected run's problems (summaries skipped), then the notes of what its view shows. */
  showNotes(viewNotes = this.viewNotes) {
    this.viewNotes = viewNotes;
    const problems = this.runs[this.state.run]?.problems ?? [];
    this.notes.show([...new Set([...problems.map((text) => `Run ${this.state.run}: ${text}`), ...viewNotes])]);
  }

  /** The ./evolution (or, for neurons, ./neurons) parameters of the current selection. */
  query() {
    const { run, mode, neuronMethod, layer, epoch, trailStyle } = this.state;
    if (mode === "neurons") return { run, over: "neurons", method: neuronMethod, layer, epoch };
    if (mode === "gradients" || mode === "correlations") return { run, over: mode };
    const projection = this.projectionParams();
    if (mode === "compare") return { run, over: "compare", ...projection };
    const bundle = trailStyle === "bundled" ? 1 : undefined;
    if (mode === "layers") return { run, over: "layers", ...projection, epoch, bundle };
    return { run, over: "epochs", ...projection, layer, epochs: spread(this.runs[run].epochs, MAX_EPOCH_FRAMES), bundle };
  }

  /** `{method, perplexity, seed}` of the observation projections (the last two for t-SNE only). */
  projectionParams() {
    const { method, perplexity, seed } = this.state;
    return method === "tsne" ? { method, perplexity, seed } : { method };
  }

  /** Fetches the frames of the current selection unless they are shown or on their way. */
  async load() {
    const query = this.query();
    const info = this.runs[query.run];
    if (query.over === "gradients" || query.over === "correlations") {
      this.showLoggerView(query.over === "gradients" ? GradientMode : CorrelationMode, query.run, info[query.over]);
      return;
    }
    if (!info.has_activations) {
      this.request?.abort();
      this.requestKey = null;
      this.showView(null);
      this.status.message(info.problems?.length ? UNREADABLE(query.run) : NO_ACTIVATIONS(query.run));
      return;
    }
    if (query.over === "compare") {
      this.showCompare(query);
      return;
    }
    const key = JSON.stringify([query, info.layers]);
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
        onProgress: (body) => {
          if (request.signal.aborted) return;
          this.status.progress(body.progress ?? 0, `Computing ${methodName} projections… ${describeProgress(body)}`);
          if (body.labels && body.frames?.some(Boolean)) this.show(body, query); // The frames finished so far.
        },
      });
      this.show(json, query);
      this.status.clear();
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
    this.showNotes(json.notes ?? []);
    this.status.clear();
  }

  /** Compares the first and the last epoch of the selected layer, until the user picks others. */
  showCompare(query) {
    this.request?.abort();
    this.requestKey = null;
    const info = this.runs[query.run];
    if (!(this.view instanceof CompareMode)) {
      const names = info.class_names;
      this.setClasses(names, names.length, []);
      const onCounts = (counts) => this.legend.update(names, this.display.colors, counts);
      this.showView(new CompareMode(this.content, this.display, this.status, onCounts));
    }
    const { layer, epochs } = { layer: this.state.layer, epochs: info.epochs };
    const choices = [epochs[0], epochs[epochs.length - 1]].map((epoch) => ({ run: query.run, layer, epoch }));
    const { run, over, ...params } = query;
    this.view.update(this.runs, choices, params, { run, methodName: METHOD_NAMES[query.method] });
  }

  /**
   * The Gradients or Correlations view (`Mode`) of `run`, given the run's summary of that
   * logger's data; the view fetches its own data when the run or its epochs change.
   */
  showLoggerView(Mode, run, summary) {
    this.request?.abort();
    this.requestKey = null;
    if (!(this.view instanceof Mode)) this.showView(new Mode(this.content, this.display.tooltip, this.status));
    this.view.show(run, summary);
  }

  /**
   * Shows the frames of an ./evolution answer: the ready one, or a computing one with the frames
   * finished so far. The mode's plots stay and fill in (a new view only for another mode).
   */
  show(json, query) {
    const info = this.runs[query.run];
    const expected = query.over === "layers"
      ? info.layers.map((layer) => ({ layer, epoch: query.epoch }))
      : query.epochs.map((epoch) => ({ layer: query.layer, epoch }));
    const sequence = buildSequence(json, info.class_names.length, expected);
    this.display.layerInfo = Object.fromEntries(info.layer_info.map((layer) => [layer.name, layer]));
    this.display.validation = info.confusion ?? null; // The confusion view's validation data: {run, epochs}.
    const Mode = query.over === "layers" ? LayerMode : EpochMode;
    if (!(this.view instanceof Mode) || this.classesShown !== this.requestKey) { // A first answer.
      this.classesShown = this.requestKey;
      this.setClasses(info.class_names, sequence.numClasses, sequence.counts);
      this.display.tooltip.setContext({ run: query.run, classNames: info.class_names, hasThumbnails: info.has_thumbnails });
    }
    const kept = query.over === "epochs" && this.view instanceof EpochMode && this.view.wantedByUser ? this.view.epoch : null;
    const epoch = kept ?? this.state.epoch; // In epoch mode, the epoch chosen with the player.
    this.showView(this.view instanceof Mode ? this.view : new Mode(this.content, this.display));
    const grid = { ...this.projectionParams(), run: query.run, layers: info.layers, epochs: spread(info.epochs, MAX_EPOCH_FRAMES) };
    this.view.show(sequence, { epoch, layer: query.layer, methodName: METHOD_NAMES[query.method], grid }); // grid: the NH chart.
    this.showNotes(json.notes ?? []);
    this.restoreSelection(sequence.labels.length);
  }

  /**
   * What the URL keeps: what differs from the defaults (and the run), the epoch only if the user
   * chose it (else the latest is followed), the neuron only while the points are coloured by it.
   */
  urlState() {
    const { epochChosen, colorBy } = this.state;
    const skipped = (key, value) => key !== "run" && (value === this.defaults[key] ||
      (key === "epoch" && !epochChosen) || (["colorLayer", "colorNeuron"].includes(key) && colorBy !== "neuron"));
    return Object.fromEntries(Object.entries(this.state).map(([key, value]) => [key, skipped(key, value) ? null : value]));
  }

  /** Selects the points named in the URL the tab opened with, once its first points are shown. */
  restoreSelection(count) {
    const points = this.restoredSelection?.filter((i) => i < count);
    if (!points) return;
    this.restoredSelection = null;
    this.select(points.length ? points : null);
  }

  /** Class colours and the legend (`counts`: points, or neurons by best class, per class). */
  setClasses(names, numClasses, counts) {
    this.display.colors = classColors(numClasses);
    this.display.classNames = names;
    this.legend.update(names, this.display.colors, counts);
    this.display.visible = this.legend.visible;
  }

  showView(view) {
    this.content.classList.remove("stale");
    if (view === this.view) return;
    this.showNotes([]);
    this.legend.root.hidden = view instanceof GradientMode || view instanceof CorrelationMode;
    this.content.replaceChildren(...(view ? [view.root] : []));
    this.view = view;
  }
}
