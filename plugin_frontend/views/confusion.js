// Confusion matrix of the probe set at the frame shown: true class x predicted class, each
// row coloured by its share of the class (so that rows of small classes read alike), counts in
// the cells where they fit, and each class's precision and recall below. Clicking a cell
// selects its points in every projection and trail view; clicking it again clears.

import { element } from "../dom.js";
import { Heatmap, colorBar, sequentialScale } from "./heatmap.js";

const SCALE = sequentialScale(0, 1);

/**
 * Per class `c`: `recall[c]` = counts[c][c] / row c's total, `precision[c]` = counts[c][c] /
 * column c's total, and `support[c]` = row c's total; null where the total is 0.
 */
export function precisionRecall(counts, classes) {
  const at = (row, col) => counts[row * classes + col];
  const sum = (f) => Array.from({ length: classes }, (_, k) => f(k)).reduce((a, b) => a + b, 0);
  const support = Array.from({ length: classes }, (_, c) => sum((k) => at(c, k)));
  const predicted = Array.from({ length: classes }, (_, c) => sum((k) => at(k, c)));
  const ratio = (c, total) => (total ? at(c, c) / total : null);
  return {
    precision: predicted.map((total, c) => ratio(c, total)),
    recall: support.map((total, c) => ratio(c, total)),
    support,
  };
}

/** `counts` (row-major `[classes x classes]`) of `labels` against `predictions`. */
export function confusionCounts(labels, predictions, classes) {
  const counts = new Array(classes * classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const predicted = predictions[i];
    if (predicted >= 0 && predicted < classes) counts[labels[i] * classes + predicted]++;
  }
  return counts;
}

export class ConfusionView {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "confusion"));
    this.title = this.root.appendChild(element("div", "section-title"));
    this.map = new Heatmap(this.root, {
      color: SCALE,
      describe: (share, row, col) => this.describe(row, col),
      tooltip: display.tooltip,
      onClick: (row, col) => this.choose(row, col),
      cellText: (share, row, col) => String(this.counts[row * this.classes + col] || ""),
      rowTitle: "true class",
      colTitle: "predicted class",
    });
    colorBar(this.root, SCALE, { min: "0", max: "100 %", title: "share of the true class" });
    this.metrics = this.root.appendChild(element("table", "confusion-metrics"));
    Object.assign(this.metrics.style, { borderCollapse: "collapse", fontSize: "12px", marginTop: "8px", fontVariantNumeric: "tabular-nums" });
    this.root.appendChild(element("div", "gradient-note", "Click a cell to select its points in every view; click it again to clear."));
    this.chosen = null;
  }

  /**
   * Shows the matrix of one frame, or hides the view when the frame has no predictions.
   * @param {{labels: Int32Array, numClasses: number}} sequence @param {?number[]} predictions
   * @param {string} title
   */
  show(sequence, predictions, title) {
    this.root.hidden = !predictions;
    if (!predictions) return;
    const { labels, numClasses: classes } = sequence;
    this.labels = labels;
    this.predictions = predictions;
    this.classes = classes;
    this.counts = confusionCounts(labels, predictions, classes);
    this.rowTotals = Array.from({ length: classes }, (_, row) =>
      this.counts.slice(row * classes, (row + 1) * classes).reduce((a, b) => a + b, 0));
    const correct = Array.from({ length: classes }, (_, c) => this.counts[c * classes + c]).reduce((a, b) => a + b, 0);
    this.title.textContent = `${title}: ${(100 * correct / labels.length).toFixed(1)} % correct`;
    const names = Array.from({ length: classes }, (_, c) => this.name(c));
    this.map.setData({
      values: this.counts.map((count, i) => count / (this.rowTotals[Math.floor(i / classes)] || 1)),
      rows: classes, cols: classes, rowLabels: names, colLabels: names,
    });
    this.showMetrics(names);
    this.redraw();
  }

  /** The per-class precision and recall table: one column per class. */
  showMetrics(names) {
    const { precision, recall, support } = precisionRecall(this.counts, this.classes);
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
      row("points", support.map(String), "Points of the class in the probe set"),
    );
  }

  name(label) {
    return this.display.classNames[label] ?? String(label);
  }

  describe(row, col) {
    const count = this.counts[row * this.classes + col];
    const share = this.rowTotals[row] ? (100 * count / this.rowTotals[row]).toFixed(1) : "0.0";
    return [["True class", this.name(row)], ["Predicted", this.name(col)], ["Points", `${count} (${share} % of the class)`]];
  }

  /** Selects the points of cell (row, col), or clears the selection if it is chosen already. */
  choose(row, col) {
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

  /** Outlines the chosen cell while its points are the selection (not after another one). */
  redraw() {
    const { selection } = this.display;
    if (this.chosen && this.chosen.selection === undefined) this.chosen.selection = selection;
    if (this.chosen && selection !== this.chosen.selection) this.chosen = null;
    this.map.select(this.chosen?.row ?? null, this.chosen?.col);
  }
}
