// Correlations: the layer-pair scores at the chosen epoch (with an epoch slider and play button)
// and as small multiples over epochs, one layer's feature x feature or sample x sample Pearson
// matrix, and how much each feature reacts to augmentations of one input. Data of
// CorrelationLogger, through ./correlations, ./feature_correlations and ./augmentation_variance.

import { fetchAugmentationVariance, fetchCorrelations, fetchFeatureCorrelations } from "../api.js";
import { element } from "../dom.js";
import { setOptions } from "./controls.js";
import { HATCH_CSS, Heatmap, colorBar, divergingScale, sequentialScale, swatches } from "./heatmap.js";
import { Player } from "./player.js";

const MEASURES = [
  ["cka", "Linear CKA"],
  ["pearson", "Mean best-match |Pearson r|"],
];
const OVER = [
  ["features", "Feature × feature"],
  ["samples", "Sample × sample (ordered by class)"],
];
// Signed Pearson r on a diverging −1…1 scale; the layer-pair scores (CKA, best-match |r|) lie
// in [0, 1]: a sequential 0…1 scale.
const CORRELATION = divergingScale(-1, 1);
const SCORE = sequentialScale(0, 1);
const REACTION = sequentialScale(0, 1);
const DEAD = [197, 27, 125]; // A feature without variance over the probe: no ratio to colour.
const MATRIX_PX = 520;
const MAX_MULTIPLES = 12;

const fixed = (digits) => (value) => (value === null || Number.isNaN(value) ? "undefined" : value.toFixed(digits));
const count = (value) => Number(value).toLocaleString("en-US");

/** "16, 2,048 of 100,000 (sampled), 10": each layer's features, and where they are a sample. */
function describeWidths(dims, sampled) {
  return dims.map((dim, i) => (sampled?.[i] != null && sampled[i] < dim ? `${count(sampled[i])} of ${count(dim)} (sampled)` : count(dim))).join(", ");
}

/** What the layer-pair scores were computed over, when it is not every point and feature. */
function describeBounds(scores) {
  const parts = [];
  if (scores.score_points != null && scores.num_points != null && scores.score_points < scores.num_points) {
    parts.push(`over ${count(scores.score_points)} of ${count(scores.num_points)} probe points (class-balanced sample)`);
  }
  if (scores.pearson_features != null) parts.push(`best-match |r| over at most ${count(scores.pearson_features)} features a layer (evenly spaced)`);
  return parts.length ? ` Scores ${parts.join("; ")}, to bound the work of a record.` : "";
}

/**
 * "256 of 512 features, evenly spaced", "256 of 1,797 probe points, balanced across classes" or
 * "all 64 features": what a feature/sample matrix of `size` rows holds (`json.sampling`: the rule,
 * in words, from ./feature_correlations).
 */
function describeSampling(json, size) {
  const what = json.over === "samples" ? "probe points" : "features";
  if (json.total == null || size >= json.total) return `all ${count(size)} ${what}`;
  return `${count(size)} of ${count(json.total)} ${what}` + (json.sampling ? `, ${json.sampling}` : "");
}

/** The largest of `epochs` that is not after `epoch` (or the first). */
function atOrBefore(epochs, epoch) {
  return epochs.filter((e) => e <= epoch).pop() ?? epochs[0];
}

function card(parent, title) {
  const section = parent.appendChild(element("section", "card correlation-card"));
  const header = section.appendChild(element("div", "plot-header"));
  const heading = header.appendChild(element("span", "plot-title", title));
  return { section, header, heading };
}

export class CorrelationMode {
  /** @param {HTMLElement} parent @param {object} tooltip The tab's Tooltip. @param {object} status */
  constructor(parent, tooltip, status) {
    this.tooltip = tooltip;
    this.status = status;
    this.root = parent.appendChild(element("div", "mode correlation-mode"));
    this.buildLayerPairs();
    this.buildMatrix();
    this.buildAugmentation();
    this.key = null;
    this.epoch = null;
    this.latest = undefined; // The last epoch of the scores shown, followed while it is the one shown.
  }

  buildLayerPairs() {
    const { section, header, heading } = card(this.root, "");
    this.pairsTitle = heading;
    this.measure = header.appendChild(element("select", "correlation-measure"));
    setOptions(this.measure, MEASURES, "cka");
    this.measure.addEventListener("change", () => this.loadPairs());
    this.pairsNote = section.appendChild(element("div", "gradient-note"));
    this.pairs = new Heatmap(section, {
      tooltip: this.tooltip, rowTitle: "layer", colTitle: "layer", cellPx: 48,
      color: SCORE,
      describe: (value, row, col) => [
        ["Layers", `${this.layers[row]} × ${this.layers[col]}`],
        [this.measureName(), fixed(3)(value)],
        ["Epoch", String(this.epoch)],
      ],
    });
    this.pairsLegend = section.appendChild(element("div"));
    this.player = new Player(section, (position) => this.showEpoch(this.scores.epochs[Math.round(position)]));
    section.appendChild(element("div", "section-title", "Over epochs"));
    this.multiples = section.appendChild(element("div", "correlation-multiples"));
  }

  buildMatrix() {
    const { section, header, heading } = card(this.root, "");
    this.matrixTitle = heading;
    this.layerSelect = header.appendChild(element("select", "correlation-layer"));
    this.over = header.appendChild(element("select", "correlation-over"));
    setOptions(this.over, OVER, "features");
    for (const select of [this.layerSelect, this.over]) select.addEventListener("change", () => this.loadMatrix());
    this.matrixNote = section.appendChild(element("div", "gradient-note"));
    this.matrix = new Heatmap(section, {
      tooltip: this.tooltip, cellPx: 2,
      color: CORRELATION,
      describe: (value, row, col) => [
        ["Pair", `${this.matrixLabel(row)} × ${this.matrixLabel(col)}`],
        ["Pearson r", fixed(3)(value)],
      ],
    });
    colorBar(section, CORRELATION, { min: "−1", max: "1", title: "Pearson r", minValue: -1, maxValue: 1 });
  }

  buildAugmentation() {
    const { section, heading } = card(this.root, "");
    this.augmentationCard = section;
    this.augmentationTitle = heading;
    this.augmentationNote = section.appendChild(element("div", "gradient-note"));
    this.augmentation = new Heatmap(section, {
      tooltip: this.tooltip, rowTitle: "layer", colTitle: "feature", cellPx: 22,
      color: (value, row, col) => (this.isDead(row, col) ? DEAD : REACTION(value)),
      hatched: (value, row, col) => col >= this.augmentationJson.layers[row].relative_variance.length,
      describe: (value, row, col) => this.describeReaction(row, col),
    });
    this.reactionBar = section.appendChild(element("div"));
    colorBar(this.reactionBar, REACTION, { min: "0 (invariant)", max: "≥ 1", title: "variance under augmentation / variance over the probe" });
    swatches(this.reactionBar, [[DEAD, "dead: no variance over the probe"], [HATCH_CSS, "no such feature: the layer is narrower"]]);
  }

  /** Shows the correlations of `run` (`summary`: its `correlations` field in ./runs, or null). */
  async show(run, summary) {
    this.root.hidden = !summary;
    if (!summary) {
      this.status.message(`Run ${run} has no correlations. Add nnviz_tb.CorrelationLogger(log_dir, probe=(x, y)) to model.fit.`);
      return;
    }
    const key = JSON.stringify([run, summary]);
    if (key === this.key) return;
    this.key = key;
    this.run = run;
    this.summary = summary;
    const layers = summary.matrix_layers;
    setOptions(this.layerSelect, layers.map((name) => [name, name]), layers.includes(this.layerSelect.value) ? this.layerSelect.value : layers[layers.length - 1]);
    await this.loadPairs();
  }

  measureName() {
    return MEASURES.find(([key]) => key === this.measure.value)[1];
  }

  async loadPairs() {
    this.status.progress(0, "Loading the correlations…");
    try {
      this.scores = await fetchCorrelations({ run: this.run, measure: this.measure.value });
    } catch (error) {
      this.status.message(`Could not load the correlations: ${error.message}`, "error");
      return;
    }
    this.layers = this.scores.layers;
    this.pairsLegend.replaceChildren();
    colorBar(this.pairsLegend, SCORE, { min: "0", max: "1", title: this.measureName() });
    const epochs = this.scores.epochs;
    // Follow the latest epoch as a run trains, unless an earlier one was chosen.
    const followed = this.latest === undefined || this.epoch === this.latest;
    this.latest = epochs[epochs.length - 1];
    const start = !followed && epochs.includes(this.epoch) ? epochs.indexOf(this.epoch) : epochs.length - 1;
    this.player.setFrames(epochs.map((e) => `epoch ${e}`), start);
    this.showMultiples();
    this.status.clear();
  }

  /** The layer-pair matrix of `epoch`, then the matrix and augmentation cards at that epoch. */
  showEpoch(epoch) {
    if (epoch === this.epoch && this.pairsShownFor === this.scores) return;
    this.epoch = epoch;
    this.pairsShownFor = this.scores;
    const i = this.scores.epochs.indexOf(epoch);
    const mean = this.scores.mean[i];
    this.pairsTitle.textContent = `${this.measureName()} between layers at epoch ${epoch}`;
    const notes = [...(this.summary.notes ?? []), ...(this.scores.notes ?? [])];
    this.pairsNote.textContent = `Mean over layer pairs: ${fixed(3)(mean)}. Features of each layer: ` +
      `${describeWidths(this.scores.dims, this.scores.sampled_dims)}.${describeBounds(this.scores)}` +
      (notes.length ? ` ${notes.join(" ")}` : "");
    this.pairs.setData({
      values: this.scores.matrices[i], rows: this.layers.length, cols: this.layers.length,
      rowLabels: this.layers, colLabels: this.layers,
    });
    [...this.multiples.children].forEach((item) => item.classList.toggle("current", Number(item.dataset.epoch) === epoch));
    this.loadMatrix();
    this.loadAugmentation();
  }

  /** One small heatmap per epoch (at most MAX_MULTIPLES, evenly spaced); click one to show it. */
  showMultiples() {
    const epochs = this.scores.epochs;
    const step = Math.max(1, Math.ceil(epochs.length / MAX_MULTIPLES));
    const shown = epochs.filter((_, i) => i % step === 0 || i === epochs.length - 1);
    this.multiples.replaceChildren();
    for (const epoch of shown) {
      const item = this.multiples.appendChild(element("div", "correlation-multiple"));
      item.dataset.epoch = String(epoch);
      item.appendChild(element("div", "plot-note", `epoch ${epoch} · mean ${fixed(2)(this.scores.mean[epochs.indexOf(epoch)])}`));
      const small = new Heatmap(item, {
        tooltip: this.tooltip, cellPx: 14, color: SCORE,
        describe: (value, row, col) => [["Layers", `${this.layers[row]} × ${this.layers[col]}`], [`Epoch ${epoch}`, fixed(3)(value)]],
        onClick: () => this.player.moveTo(epochs.indexOf(epoch)),
      });
      small.setData({
        values: this.scores.matrices[epochs.indexOf(epoch)], rows: this.layers.length, cols: this.layers.length,
        rowLabels: this.layers.map(() => ""), colLabels: this.layers.map(() => ""),
      });
    }
  }

  async loadMatrix() {
    const layer = this.layerSelect.value;
    const epoch = atOrBefore(this.summary.matrix_epochs[layer] ?? [], this.epoch);
    if (epoch === undefined) return;
    const over = this.over.value;
    let json;
    try {
      json = await fetchFeatureCorrelations({ run: this.run, layer, epoch, over });
    } catch (error) {
      this.status.message(`Could not load the ${over} correlations: ${error.message}`, "error");
      return;
    }
    if (layer !== this.layerSelect.value || over !== this.over.value) return; // A newer choice is on its way.
    this.matrixJson = json;
    const size = json.matrix.length;
    const names = json.class_names ?? [];
    const labels = json.indices.map((index, k) =>
      over === "samples" ? `#${index} (${names[json.labels[k]] ?? json.labels[k]})` : `feature ${index}`,
    );
    // Samples: label the first row of each class block only, so the blocks read as groups.
    const rowLabels = over === "samples"
      ? json.labels.map((label, k) => (k === 0 || json.labels[k - 1] !== label ? names[label] ?? String(label) : ""))
      : labels.map((label, k) => (size <= 32 || k % Math.ceil(size / 16) === 0 ? String(json.indices[k]) : ""));
    this.matrixLabels = labels;
    this.matrixTitle.textContent = `${over === "samples" ? "Sample" : "Feature"} correlations of ${layer} at epoch ${epoch}`;
    const dead = json.dead.filter(Boolean).length;
    this.matrixNote.textContent = describeSampling(json, size) + (dead ? `; ${dead} without variance (empty rows).` : ".");
    this.matrix.options.cellPx = Math.max(2, Math.floor(MATRIX_PX / size));
    this.matrix.setData({ values: json.matrix, rows: size, cols: size, rowLabels, colLabels: rowLabels.map(() => "") });
  }

  matrixLabel(k) {
    return this.matrixLabels[k];
  }

  async loadAugmentation() {
    const epochs = this.summary.augmentation_epochs ?? [];
    const note = this.summary.augmentation_note;
    this.augmentationCard.hidden = !epochs.length && !note;
    this.augmentation.root.hidden = this.reactionBar.hidden = !epochs.length;
    if (!epochs.length) {
      this.augmentationTitle.textContent = "Reaction of each feature to augmentations";
      this.augmentationNote.textContent = note ?? "";
      return;
    }
    const epoch = atOrBefore(epochs, this.epoch);
    let json;
    try {
      json = await fetchAugmentationVariance({ run: this.run, epoch });
    } catch (error) {
      this.status.message(`Could not load the augmentation variance: ${error.message}`, "error");
      return;
    }
    this.augmentationJson = json;
    const width = Math.max(...json.layers.map((layer) => layer.relative_variance.length));
    const values = json.layers.flatMap((layer) =>
      Array.from({ length: width }, (_, f) => (f < layer.relative_variance.length ? layer.relative_variance[f] ?? NaN : NaN)),
    );
    this.augmentationTitle.textContent = `Reaction of each feature to ${json.num_augmentations} augmentations of probe point #${json.input_index}, epoch ${epoch}`;
    this.augmentationNote.textContent = json.layers
      .map((layer) => `${layer.name}: ${layer.invariant_fraction === null ? "—" : `${Math.round(100 * layer.invariant_fraction)} %`} invariant`)
      .join(" · ") + ` (relative variance < ${json.threshold}; augmentation: ${json.augmentation}).` +
      (note ? ` ${note}` : "") +
      (json.layers.some((layer) => layer.indices) ? " Layers wider than the cap show an evenly spaced sample of their features." : "");
    this.augmentation.setData({
      values, rows: json.layers.length, cols: width,
      rowLabels: json.layers.map((layer) => layer.name), colLabels: Array.from({ length: width }, (_, f) => (f % 16 === 0 ? String(f) : "")),
    });
  }

  isDead(row, col) {
    return Boolean(this.augmentationJson.layers[row].dead[col]);
  }

  describeReaction(row, col) {
    const layer = this.augmentationJson.layers[row];
    if (col >= layer.variance.length) return [["Layer", layer.name], ["Feature", `none: ${layer.name} has ${count(layer.variance.length)} features shown`]];
    const relative = layer.relative_variance[col];
    return [
      ["Feature", `${layer.name} #${layer.indices ? layer.indices[col] : col}`],
      ["Variance (augmented)", layer.variance[col].toPrecision(3)],
      ["Variance (probe)", layer.probe_variance[col].toPrecision(3)],
      ["Relative", relative === null ? "undefined (dead)" : relative.toPrecision(3)],
      ["State", layer.dead[col] ? "dead" : layer.invariant[col] ? "invariant" : "reacts"],
    ];
  }

  redraw() {}
}
