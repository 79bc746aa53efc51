// Base of every canvas plot: a header (title, note, PNG/SVG export buttons) over a square canvas
// that is redrawn when its size changes. Subclasses implement `ready()` and `paint(ctx, w, h)`;
// the same `paint` draws on screen and into the exports.

import { element } from "../dom.js";
import { exportPlot } from "../export.js";
import { fitCanvas } from "../plot.js";

export class PlotView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state (`legendItems()` lists the classes to export).
   * @param {string} className Classes of the root element.
   */
  constructor(parent, display, className) {
    this.display = display;
    this.root = parent.appendChild(element("div", className));
    const header = this.root.appendChild(element("div", "plot-header"));
    this.title = header.appendChild(element("span", "plot-title"));
    this.note = header.appendChild(element("span", "plot-note"));
    const tools = header.appendChild(element("span", "plot-tools"));
    for (const format of ["png", "svg"]) {
      const button = tools.appendChild(element("button", `link-button export-${format}`, format.toUpperCase()));
      button.title = `Download this plot as ${format.toUpperCase()}`;
      button.addEventListener("click", () => this.export(format));
    }
    this.canvas = this.root.appendChild(element("canvas", "plot-canvas"));
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  /** Whether there is something to paint. */
  ready() {
    return false;
  }

  /** Draws the plot into `ctx` (a canvas context or an `SvgContext`), `width` x `height` CSS px. */
  paint(ctx, width, height) {}

  /** Paints the plot, or clears the canvas while there is nothing to paint. */
  draw() {
    if (!this.canvas.isConnected) return;
    const { ctx, width, height } = fitCanvas(this.canvas);
    if (this.ready()) this.paint(ctx, width, height);
  }

  /** The title of an exported figure: the plot's title and note. */
  exportTitle() {
    return [this.title.textContent, this.note.textContent].filter(Boolean).join(" · ");
  }

  async export(format) {
    if (!this.ready()) return;
    await exportPlot(this, format, this.display.legendItems());
    this.draw(); // The export painted at its own size: put the on-screen geometry back.
  }
}
