// Gradients: a statistic of the gradients per layer and epoch (zero fraction by default), the
// exact numbers of the chosen epoch, and the gradient signs of a sample of one layer's weights
// at each step. Data of GradientStatsLogger, through ./gradients and ./gradient_signs.

import { fetchGradients, fetchGradientSigns, gradientsUrl } from "../api.js";
import { element } from "../dom.js";
import { setOptions } from "./controls.js";
import { HATCH_CSS, Heatmap, categoricalScale, colorBar, sequentialScale, swatches } from "./heatmap.js";

// Statistics of the overview: [key, name, how a layer's value becomes the colour's value].
const PER_WEIGHT_STEP = "per weight and measured step";
const OVERVIEW_STATS = [
  ["zero_fraction", "Zero gradients (fraction of weights × steps)", "fraction"],
  ["retained_fraction", "Retained: zero at every measured step (fraction of weights)", "fraction"],
  ["dead_fraction", "Dead ReLU units (fraction)", "fraction"],
  ["released", `Released ${PER_WEIGHT_STEP}`, "rate"],
  ["sign_flips", `Sign flips ${PER_WEIGHT_STEP}`, "rate"],
  ["minima", `Minima crossed ${PER_WEIGHT_STEP}`, "rate"],
  ["maxima", `Maxima crossed ${PER_WEIGHT_STEP}`, "rate"],
  ["grad_norm", "Gradient L2 norm (mean over measured steps)", "value"],
  ["weight_change", "Weight change L2 norm (mean per step)", "value"],
];
// Sign codes (nnviz_tb.metadata.SIGN_*): zero, small -, small +, large -, large +. Orange for
// negative, blue for positive (told apart with any colour vision), stronger for larger |g|.
const SIGN_COLORS = [[224, 224, 224], [253, 184, 99], [146, 197, 222], [230, 97, 1], [33, 102, 172]];
const SIGN_SCALE = categoricalScale(SIGN_COLORS);
// A cell of the overview measured on fewer optimizer steps than this is drawn washed out and
// hatched: a statistic of one or two steps is noise, not a trend.
const MIN_MEASURED_STEPS = 5;
const WASHED = 0.65; // How far such a cell's colour is mixed towards white.
const TABLE_COLUMNS = [
  ["zero_fraction", "zero", percent],
  ["retained_fraction", "retained", percent],
  ["released", "released", count],
  ["sign_flips", "sign flips", count],
  ["minima", "minima", count],
  ["maxima", "maxima", count],
  ["grad_norm", "‖g‖", number],
  ["weight_change", "‖Δw‖", number],
  ["dead_units", "dead units", count],
];

function percent(value) {
  return value === null ? "—" : `${(100 * value).toFixed(value > 0 && value < 0.001 ? 4 : 2)} %`;
}

function count(value) {
  return value === null ? "—" : Math.round(value).toLocaleString("en-US");
}

function number(value) {
  return value === null ? "—" : value.toPrecision(4);
}

function ordinal(n) {
  return n === 1 ? "every" : `every ${n}${n % 10 === 2 && n !== 12 ? "nd" : n % 10 === 3 && n !== 13 ? "rd" : "th"}`;
}

export class GradientMode {
  /** @param {HTMLElement} parent @param {object} tooltip The tab's Tooltip. @param {object} status */
  constructor(parent, tooltip, status) {
    this.status = status;
    this.root = parent.appendChild(element("div", "mode gradient-mode"));
    this.buildOverview(tooltip);
    this.buildSigns(tooltip);
    this.stats = null;
    this.key = null;
    this.selection = { layer: null, epoch: null };
  }

  buildOverview(tooltip) {
    const card = this.root.appendChild(element("section", "card gradient-card"));
    const header = card.appendChild(element("div", "plot-header"));
    header.appendChild(element("span", "plot-title", "Gradient statistics per layer and epoch"));
    this.exports = header.appendChild(element("span", "plot-note"));
    this.statSelect = card.appendChild(element("select", "gradient-stat-select"));
    setOptions(this.statSelect, OVERVIEW_STATS.map(([key, name]) => [key, name]), "zero_fraction");
    this.statSelect.addEventListener("change", () => this.showOverview());
    this.overviewNote = card.appendChild(element("div", "gradient-note"));
    this.overview = new Heatmap(card, {
      tooltip, rowTitle: "layer", colTitle: "epoch", cellPx: 24,
      color: (value, row, col) => this.overviewColor(value, col),
      hatched: (value, row, col) => this.underMeasured(col),
      describe: (value, row, col) => this.describeCell(value, row, col),
      onClick: (row, col) => this.choose(this.stats.layers[row], this.stats.epochs[col]),
    });
    this.overviewLegend = card.appendChild(element("div"));
    this.table = card.appendChild(element("table", "gradient-table"));
  }

  buildSigns(tooltip) {
    const card = this.root.appendChild(element("section", "card gradient-card"));
    const header = card.appendChild(element("div", "plot-header"));
    this.signsTitle = header.appendChild(element("span", "plot-title"));
    this.layerSelect = header.appendChild(element("select", "gradient-layer-select"));
    this.epochSelect = header.appendChild(element("select", "gradient-epoch-select"));
    this.layerSelect.addEventListener("change", () => this.choose(this.layerSelect.value, this.selection.epoch));
    this.epochSelect.addEventListener("change", () => this.choose(this.selection.layer, Number(this.epochSelect.value)));
    this.signsNote = card.appendChild(element("div", "gradient-note"));
    this.signs = new Heatmap(card, {
      tooltip, rowTitle: "sampled weight", colTitle: "training step", cellPx: 6,
      color: SIGN_SCALE,
      describe: (code, row, col) => this.describeSign(code, row, col),
    });
    this.signsLegend = card.appendChild(element("div"));
  }

  /** Shows the gradients of `run` (`summary`: its `gradients` field in ./runs, or null). */
  async show(run, summary) {
    if (!summary) {
      this.status.message(`Run ${run} has no gradient statistics. Add nnviz_tb.GradientStatsLogger(log_dir) to model.fit.`);
      this.root.hidden = true;
      return;
    }
    const key = JSON.stringify([run, summary.epochs]);
    if (key === this.key) return;
    this.key = key;
    this.run = run;
    this.request?.abort();
    const request = (this.request = new AbortController());
    this.status.progress(0, "Loading the gradient statistics…");
    const latest = this.stats?.epochs.at(-1);
    try {
      this.stats = await fetchGradients(run, request.signal);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.key = null;
      this.status.message(`Could not load the gradient statistics: ${error.message}`, "error");
      return;
    }
    this.root.hidden = false;
    const { layers, epochs } = this.stats;
    const layer = layers.includes(this.selection.layer) ? this.selection.layer : layers[0];
    // The latest epoch stays selected as new ones arrive; an earlier one the user chose stays.
    const keep = epochs.includes(this.selection.epoch) && this.selection.epoch !== latest;
    const epoch = keep ? this.selection.epoch : epochs[epochs.length - 1];
    setOptions(this.layerSelect, layers.map((name) => [name, name]), layer);
    setOptions(this.epochSelect, epochs.map((e) => [e, `epoch ${e}`]), epoch);
    this.exports.replaceChildren("Export all statistics: ", ...["json", "csv"].flatMap((format, i) => {
      const link = element("a", "link-button", format.toUpperCase());
      link.href = gradientsUrl(run, format);
      link.download = `${run}_gradients.${format}`;
      return i ? [" · ", link] : [link];
    }));
    // Epochs whose summary is corrupt are left out; the server says which.
    if (this.stats.problems?.length) this.status.message(this.stats.problems.join(" "));
    else this.status.clear();
    await this.choose(layer, epoch);
  }

  /** The value the overview colours for layer `row` at epoch `col` of statistic `key`. */
  overviewValue(key, row, col) {
    const value = this.stats.layer_stats[key][row][col];
    const kind = OVERVIEW_STATS.find(([k]) => k === key)[2];
    if (value === null || kind !== "rate") return value;
    return value / (this.stats.layer_info[row].size * this.stats.measured[col] || 1);
  }

  /** Whether epoch `col` was measured on fewer than MIN_MEASURED_STEPS steps. */
  underMeasured(col) {
    return this.stats.measured[col] < MIN_MEASURED_STEPS;
  }

  overviewColor(value, col) {
    const color = this.overviewScale(value);
    return color && this.underMeasured(col) ? color.map((c) => Math.round(c + (255 - c) * WASHED)) : color;
  }

  /** What the note says about epochs measured on too few steps ("" if none). */
  describeFewSteps() {
    const { epochs, measured } = this.stats;
    const few = epochs.filter((_, col) => this.underMeasured(col));
    if (!few.length) return "";
    const counts = [...new Set(few.map((e) => measured[epochs.indexOf(e)]))].sort((a, b) => a - b);
    const which = few.length === epochs.length ? "Every epoch was" : `${few.length} of ${epochs.length} epochs (${few.slice(0, 6).join(", ")}${few.length > 6 ? ", …" : ""}) were`;
    return ` ${which} measured on ${counts.join(" or ")} step${counts.at(-1) === 1 ? "" : "s"}, fewer than ` +
      `${MIN_MEASURED_STEPS}: those cells are washed out and hatched, as noise rather than signal` +
      (this.stats.every_n_steps > 1 ? " (a smaller GradientStatsLogger(every_n_steps=…) measures more)." : ".");
  }

  showOverview() {
    const { layers, epochs } = this.stats;
    const key = this.statSelect.value;
    const values = layers.flatMap((_, row) => epochs.map((_, col) => this.overviewValue(key, row, col)));
    const kind = OVERVIEW_STATS.find(([k]) => k === key)[2];
    const finite = values.filter((v) => v !== null && Number.isFinite(v));
    const max = Math.max(...finite, 1e-12);
    this.overviewScale = sequentialScale(0, max);
    this.overviewFormat = kind === "fraction" ? percent : number;
    this.overview.setData({
      values: values.map((v) => (v === null ? NaN : v)), rows: layers.length, cols: epochs.length,
      rowLabels: layers, colLabels: epochs.map(String),
    });
    this.overview.select(layers.indexOf(this.selection.layer), epochs.indexOf(this.selection.epoch));
    this.overviewLegend.replaceChildren();
    const name = OVERVIEW_STATS.find(([k]) => k === key)[1];
    colorBar(this.overviewLegend, this.overviewScale, { min: "0", max: this.overviewFormat(max), title: name, maxValue: max });
    if (epochs.some((_, col) => this.underMeasured(col))) {
      swatches(this.overviewLegend, [[HATCH_CSS, `washed out, hatched: fewer than ${MIN_MEASURED_STEPS} measured steps`]]);
    }
    const last = epochs.length - 1;
    const k = this.stats.every_n_steps;
    this.overviewNote.textContent = k === 1
      ? `Exact: every optimizer step, every weight.${this.describeFewSteps()} Click a cell for its layer's gradient signs.`
      : `Exact over every weight on the measured steps: ${ordinal(k)} optimizer step, each compared with the step ` +
        `before it (${this.stats.measured[last]} of ${this.stats.steps[last]} steps in epoch ${epochs[last]}); ` +
        "other steps are not counted." + this.describeFewSteps() + " Click a cell for its layer's gradient signs.";
  }

  describeCell(value, row, col) {
    const { layers, epochs, layer_stats: stats, layer_info: info, measured, steps } = this.stats;
    const at = (key) => stats[key][row][col];
    const rows = [
      ["Layer", `${layers[row]} (${info[row].size.toLocaleString("en-US")} weights)`],
      ["Epoch", `${epochs[col]} (${measured[col]} of ${steps[col]} steps measured)`],
      ...(this.underMeasured(col) ? [["Caution", `${measured[col]} measured step${measured[col] === 1 ? "" : "s"}: fewer than ${MIN_MEASURED_STEPS}, noise rather than signal`]] : []),
      ["Shown", value === null || Number.isNaN(value) ? "—" : this.overviewFormat(value)],
    ];
    for (const [key, name, format] of TABLE_COLUMNS) rows.push([name, format(at(key))]);
    if (info[row].units) rows.push(["units", String(info[row].units)]);
    return rows;
  }

  /** Selects a layer and an epoch: the table, the outlined cell and the sign heatmap follow. */
  async choose(layer, epoch) {
    this.selection = { layer, epoch };
    this.layerSelect.value = layer;
    this.epochSelect.value = String(epoch);
    this.showOverview();
    this.showTable();
    const request = { run: this.run, layer, epoch };
    this.signsRequest?.abort();
    const controller = (this.signsRequest = new AbortController());
    try {
      const data = await fetchGradientSigns(request, controller.signal);
      this.showSigns(data);
    } catch (error) {
      if (error.name !== "AbortError") this.status.message(`Could not load the gradient signs: ${error.message}`, "error");
    }
  }

  showTable() {
    const { layers, epochs, layer_stats: stats } = this.stats;
    const col = epochs.indexOf(this.selection.epoch);
    const head = element("tr");
    head.appendChild(element("th", "", `epoch ${this.selection.epoch}`));
    for (const [, name] of TABLE_COLUMNS) head.appendChild(element("th", "", name));
    const body = layers.map((layer, row) => {
      const tr = element("tr", layer === this.selection.layer ? "current" : "");
      tr.appendChild(element("td", "", layer));
      for (const [key, , format] of TABLE_COLUMNS) tr.appendChild(element("td", "", format(stats[key][row][col])));
      tr.addEventListener("click", () => this.choose(layer, this.selection.epoch));
      return tr;
    });
    this.table.replaceChildren(head, ...body);
  }

  showSigns(data) {
    this.signData = data;
    const { layer, epoch, codes, weights, steps, stride, steps_in_epoch: total, layer_size: size } = data;
    const prefix = `${layer}/`;
    this.signsTitle.textContent = `Gradient signs of ${layer}, epoch ${epoch}`;
    this.signs.setData({
      values: codes.flat(), rows: codes.length, cols: steps.length,
      rowLabels: weights.map((w) => (w.startsWith(prefix) ? w.slice(prefix.length) : w)),
      colLabels: steps.map(String),
    });
    const stepText = stride === 1 ? `all ${total} steps` : `${ordinal(stride)} step (${steps.length} of ${total})`;
    this.signsNote.textContent =
      `A sample: ${weights.length} of ${size.toLocaleString("en-US")} weights (evenly spaced over the layer), ` +
      `${stepText} of the epoch; exact gradient signs of those.`;
    const [zt, rt] = [data.zero_threshold, data.release_threshold].map((t) => t.toExponential());
    this.signsLegend.replaceChildren();
    swatches(this.signsLegend, [
      [SIGN_COLORS[0], `zero (|g| < ${zt})`],
      [SIGN_COLORS[1], `small negative (${zt} ≤ |g| ≤ ${rt})`],
      [SIGN_COLORS[3], `large negative (|g| > ${rt})`],
      [SIGN_COLORS[2], "small positive"],
      [SIGN_COLORS[4], "large positive"],
    ]);
  }

  describeSign(code, row, col) {
    const { weights, steps, first_step: first, epoch, code_names: names } = this.signData;
    return [
      ["Weight", weights[row]],
      ["Step", `${steps[col]} (step ${steps[col] - first + 1} of epoch ${epoch})`],
      ["Gradient", names[code] ?? "—"],
    ];
  }

  redraw() {
    this.overview.draw();
    this.signs.draw();
  }
}
