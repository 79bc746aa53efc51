// Confusion matrix at the frame shown: true class x predicted class, each row coloured by its
// share of the class (so that rows of small classes read alike), counts in the cells where they
// fit, and each class's precision, recall and F1 below. Of the probe set (clicking a cell selects
// its points in every projection and trail view; clicking it again clears) or, for a run with
// ConfusionMatrixLogger data, of the validation data at that epoch: a "probe | validation" switch
// (views/confusion_source.js gives both matrices).

import { element } from "../dom.js";
import { probeMatrix, validationMatrix } from "./confusion_source.js";
import { Heatmap, colorBar, sequentialScale } from "./heatmap.js";

const SCALE = sequentialScale(0, 1);
const SOURCES = {
  probe: "The probe set of the projections, at the frame shown",
  validation: "The validation data of ConfusionMatrixLogger, at the latest epoch it recorded by the one shown",
};

export class ConfusionView {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "confusion"));
    const header = this.root.appendChild(element("div", "confusion-header"));
    this.title = header.appendChild(element("div", "section-title"));
    this.switch = header.appendChild(element("div", "segmented confusion-source"));
    this.sourceButtons = Object.entries(SOURCES).map(([source, help]) => {
      const button = this.switch.appendChild(element("button", "segment", source));
      Object.assign(button, { title: help });
      button.dataset.source = source;
      button.addEventListener("click", () => this.setSource(source));
      return button;
    });
    this.body = this.root.appendChild(element("div", "confusion-body"));
    this.map = new Heatmap(this.body, {
      color: SCALE,
      describe: (share, row, col) => this.describe(row, col),
      tooltip: display.tooltip,
      onClick: (row, col) => this.choose(row, col),
      cellText: (share, row, col) => String(this.matrix.counts[row * this.matrix.classes + col] || ""),
      rowTitle: "true class",
      colTitle: "predicted class",
    });
    colorBar(this.body, SCALE, { min: "0", max: "100 %", title: "share of the true class" });
    this.metrics = this.body.appendChild(element("table", "confusion-metrics"));
    Object.assign(this.metrics.style, { borderCollapse: "collapse", fontSize: "12px", marginTop: "8px", fontVariantNumeric: "tabular-nums" });
    this.macro = this.body.appendChild(element("div", "gradient-note confusion-macro"));
    this.note = this.body.appendChild(element("div", "gradient-note", "Click a cell to select its points in every view; click it again to clear."));
    this.chosen = null;
    this.labels = null; // The probe's, while its matrix is shown (cells select points).
    this.requests = 0;
  }

  /**
   * Shows the matrix of one frame, or hides the view when the frame has no predictions.
   * @param {{labels: Int32Array, numClasses: number}} sequence @param {?number[]} predictions
   * @param {string} title The probe's matrix's. @param {{run?: string, epoch?: ?number}} at The
   *   frame's run and epoch, of the validation data's matrix.
   */
  show(sequence, predictions, title, { run, epoch } = {}) {
    this.root.hidden = !predictions;
    this.frame = { sequence, predictions, title, run, epoch };
    if (predictions) this.load();
  }

  /** "validation" when chosen and the run has validation data (`display.validation`: `runs`' `confusion`), else "probe". */
  get source() {
    return this.display.validation && this.display.confusionSource === "validation" ? "validation" : "probe";
  }

  setSource(source) {
    this.display.confusionSource = source; // Kept for the other modes' matrices.
    this.load();
  }

  /** Draws the frame's matrix of the chosen source (fetched first for the validation data). */
  async load() {
    const { sequence, predictions, title, run, epoch } = this.frame;
    const source = this.source;
    this.switch.hidden = !this.display.validation;
    for (const button of this.sourceButtons) button.classList.toggle("active", button.dataset.source === source);
    const request = ++this.requests;
    this.root.classList.remove("loading");
    if (source === "probe") {
      this.labels = sequence.labels;
      this.predictions = predictions;
      this.draw(probeMatrix(sequence.labels, predictions, sequence.numClasses, this.display.classNames), title, "the probe set");
      return;
    }
    this.labels = null;
    this.root.classList.add("loading");
    try {
      const matrix = await validationMatrix(run, epoch, this.display.validation.epochs);
      if (request !== this.requests) return;
      const at = epoch === null || epoch === undefined || matrix.epoch === epoch
        ? `at epoch ${matrix.epoch}` : `at epoch ${matrix.epoch}, the latest recorded by epoch ${epoch}`;
      this.draw(matrix, `Confusion matrix of the validation data ${at} (${matrix.numPoints.toLocaleString("en-US")} points)`,
        "the validation data");
    } catch (error) {
      if (request !== this.requests) return;
      this.title.textContent = `Confusion matrix of the validation data: ${error.message}`;
      this.body.hidden = true;
    }
    this.root.classList.remove("loading");
  }

  /** Draws `matrix` (see views/confusion_source.js) of `population` (e.g. "the probe set") under `title`. */
  draw(matrix, title, population) {
    this.matrix = matrix;
    const { counts, classes, numPoints } = matrix;
    this.rowTotals = Array.from({ length: classes }, (_, row) =>
      counts.slice(row * classes, (row + 1) * classes).reduce((a, b) => a + b, 0));
    const correct = Array.from({ length: classes }, (_, c) => counts[c * classes + c]).reduce((a, b) => a + b, 0);
    this.title.textContent = `${title}: ${numPoints ? `${(100 * correct / numPoints).toFixed(1)} % correct` : "no points"}`;
    const names = Array.from({ length: classes }, (_, c) => this.name(c));
    this.body.hidden = false;
    this.map.setData({
      values: counts.map((count, i) => count / (this.rowTotals[Math.floor(i / classes)] || 1)),
      rows: classes, cols: classes, rowLabels: names, colLabels: names,
    });
    this.showMetrics(names, population);
    this.note.hidden = !this.labels;
    this.redraw();
  }

  /** The per-class precision, recall and F1 table (one column per class), and the macro averages. */
  showMetrics(names, population) {
    const { precision, recall, f1, support, macro } = this.matrix.metrics;
    const percent = (value) => (value === null ? "—" : `${(100 * value).toFixed(1)}`);
    const row = (head, cells, title) => {
      const tr = element("tr");
      const th = tr.appendChild(element("th", "", head));
      th.title = title;
      Object.assign(th.style, { textAlign: "left", fontWeight: "500", paddingRight: "8px", whiteSpace: "nowrap" });
      for (const text of cells) tr.appendChild(element("td", "", text)).style.cssText = "text-align:right;padding:1px 4px";
      return tr;
    };
    this.metrics.replaceChildren(
      row("class", names, ""),
      row("precision %", precision.map(percent), "Of the points predicted as the class, the share that belong to it (column)"),
      row("recall %", recall.map(percent), "Of the points of the class, the share predicted as it (row)"),
      row("F1 %", f1.map(percent), "The harmonic mean of precision and recall"),
      row("points", support.map(String), `Points of the class in ${population}`),
    );
    this.macro.textContent = `Macro average over the classes present: precision ${percent(macro.precision)} %, ` +
      `recall ${percent(macro.recall)} %, F1 ${percent(macro.f1)} %.`;
  }

  name(label) {
    return this.matrix.classNames[label] ?? String(label);
  }

  describe(row, col) {
    const count = this.matrix.counts[row * this.matrix.classes + col];
    const share = this.rowTotals[row] ? (100 * count / this.rowTotals[row]).toFixed(1) : "0.0";
    return [["True class", this.name(row)], ["Predicted", this.name(col)], ["Points", `${count} (${share} % of the class)`]];
  }

  /** Selects the probe points of cell (row, col), or clears the selection if it is chosen already. */
  choose(row, col) {
    if (!this.labels) return; // The validation data's: no points of the views.
    const same = this.chosen && this.chosen.row === row && this.chosen.col === col;
    const points = [];
    if (!same) {
      for (let i = 0; i < this.labels.length; i++) {
        if (this.labels[i] === row && this.predictions[i] === col) points.push(i);
      }
    }
    this.chosen = same || !points.length ? null : { row, col, selection: undefined };
    this.display.select(this.chosen ? points : null); // Redraws: the chosen cell takes its selection.
  }

  /** Outlines the chosen cell of the probe's matrix while its points are the selection (not after another one). */
  redraw() {
    const { selection } = this.display;
    if (this.chosen && this.chosen.selection === undefined) this.chosen.selection = selection;
    if (this.chosen && selection !== this.chosen.selection) this.chosen = null;
    const shown = this.labels ? this.chosen : null;
    this.map.select(shown?.row ?? null, shown?.col);
  }
}
