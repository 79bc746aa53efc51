// A generic matrix heatmap on a canvas: row and column labels, exact value on hover, zoom
// and pan, a selected cell; plus colour scales and legends to go with it.
//
//   import { Heatmap, sequentialScale, colorBar } from "./heatmap.js";
//   const map = new Heatmap(card, {
//     color: sequentialScale(0, 1),                    // (value, row, col) => [r, g, b] or null (empty)
//     describe: (value, row, col) => [["Layer", rows[row]], ["Value", value.toFixed(3)]],
//     tooltip,                                         // the tab's Tooltip (showText / hide)
//     onClick: (row, col) => {},                       // optional; not called after a drag
//     hatched: (value, row, col) => false,             // optional; cells drawn hatched (no data)
//     cellText: (value, row, col) => "12",             // optional; printed where it fits the cell
//     rowTitle: "layer", colTitle: "epoch",            // optional axis titles
//   });
//   map.setData({ values, rows, cols, rowLabels, colLabels });   // values: row-major, rows x cols
//   map.select(row, col);                             // outlines a cell (null: none)
//   colorBar(card, sequentialScale(0, 1), { min: "0", max: "1", title: "zero fraction" });
//
// `values` is any array-like of numbers (NaN or null: an empty cell) or an array of row arrays.
// Wheel zooms around the pointer, dragging pans, double-click shows the whole matrix again.
// Cells are drawn as one image, so matrices of a few thousand rows and columns stay fast.
// Scales (each returns `(value) => [r, g, b]` or null for a missing value):
//   sequentialScale(min, max, from?, to?)        light to dark
//   divergingScale(min, max, negative?, neutral?, positive?)   e.g. correlations in [-1, 1]
//   categoricalScale(colors)                     integer codes -> colours ([r, g, b] each)
// Legends: colorBar(parent, scale, {min, max, title}) and swatches(parent, [[color, text], ...])
// (a colour is `[r, g, b]` or a CSS background such as HATCH_CSS, the look of hatched cells).
// Colours of the frame and labels follow the page's CSS variables (--muted, --border, --surface).

import { themeColor } from "../colors.js";
import { element } from "../dom.js";
import { fitCanvas } from "../plot.js";
import { HATCH_GAP_PX, HATCH_INK, luminance } from "./heatmap_scales.js";

export {
  HATCH_CSS, categoricalScale, colorBar, cssColor, divergingScale, sequentialScale, swatches,
} from "./heatmap_scales.js";

const FONT = "11px Roboto, 'Helvetica Neue', Arial, sans-serif";
const CELL_TEXT_MIN_PX = 14;
const MAX_LABEL_PX = 160;
const LABEL_GAP_PX = 4;
const LINE_PX = 13;
const DEFAULT_CELL_PX = 18;
const ZOOM_STEP = 1.25;
const DRAG_PX = 3;

export class Heatmap {
  /**
   * @param {HTMLElement} parent
   * @param {{color: Function, describe: Function, tooltip: object, onClick?: Function,
   *          rowTitle?: string, colTitle?: string, cellPx?: number}} options
   */
  constructor(parent, options) {
    this.options = options;
    this.root = parent.appendChild(element("div", "heatmap"));
    this.canvas = this.root.appendChild(element("canvas", "heatmap-canvas"));
    this.hint = this.root.appendChild(element("div", "heatmap-hint", "Scroll to zoom, drag to pan, double-click to see all."));
    this.data = null;
    this.selected = null;
    this.image = document.createElement("canvas");
    this.canvas.heatmap = this; // For the browser tests: cell geometry (toPixel) and colours.
    this.listen();
    new ResizeObserver(() => this.draw()).observe(this.root);
  }

  /** @param {{values: ArrayLike<number>|number[][], rows: number, cols: number, rowLabels: string[], colLabels: string[]}} data */
  setData(data) {
    const { rows, cols } = data;
    const values = Array.isArray(data.values[0]) ? data.values.flat() : data.values;
    const sameShape = this.data && this.data.rows === rows && this.data.cols === cols;
    this.data = { ...data, values };
    if (!sameShape) this.view = { col0: 0, col1: cols, row0: 0, row1: rows };
    this.paintCells();
    this.draw();
  }

  /** Outlines the cell (row, col); `select(null)` clears it. */
  select(row, col) {
    this.selected = row === null || row === undefined ? null : { row, col };
    this.draw();
  }

  resetZoom() {
    if (!this.data) return;
    this.view = { col0: 0, col1: this.data.cols, row0: 0, row1: this.data.rows };
    this.draw();
  }

  /** Paints one pixel per cell into the offscreen image. */
  paintCells() {
    const { values, rows, cols } = this.data;
    this.image.width = Math.max(1, cols);
    this.image.height = Math.max(1, rows);
    const ctx = this.image.getContext("2d");
    const pixels = ctx.createImageData(this.image.width, this.image.height);
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < cols; col++) {
        const color = this.options.color(values[row * cols + col], row, col);
        if (!color) continue;
        const i = 4 * (row * cols + col);
        pixels.data.set(color, i);
        pixels.data[i + 3] = 255;
      }
    }
    ctx.putImageData(pixels, 0, 0);
  }

  /** The plot's layout in CSS pixels: margins for the labels and the cell area. */
  layout(ctx, width) {
    const { rowLabels, colLabels, rows } = this.data;
    ctx.font = FONT;
    const widest = (labels) => labels.reduce((w, label) => Math.max(w, ctx.measureText(label).width), 0);
    const left = Math.min(MAX_LABEL_PX, widest(rowLabels)) + LABEL_GAP_PX + (this.options.rowTitle ? LINE_PX + 4 : 0);
    const colLabelPx = Math.min(MAX_LABEL_PX * 0.6, widest(colLabels));
    const areaWidth = Math.max(40, width - left - 8);
    const visibleCols = this.view.col1 - this.view.col0;
    this.rotateColLabels = (colLabelPx + 6) * Math.min(visibleCols, colLabels.length) > areaWidth;
    const bottom = (this.rotateColLabels ? colLabelPx * 0.75 + 8 : LINE_PX + 4) + (this.options.colTitle ? LINE_PX + 4 : 0);
    const cellPx = this.options.cellPx ?? DEFAULT_CELL_PX;
    const areaHeight = Math.max(20, Math.min(rows * cellPx, 560));
    return { left, top: 6, areaWidth, areaHeight, height: 6 + areaHeight + bottom };
  }

  draw() {
    if (!this.data || !this.root.isConnected) return;
    const probe = this.canvas.getContext("2d");
    const frame = this.layout(probe, this.root.clientWidth || 400);
    this.canvas.style.height = `${frame.height}px`;
    const { ctx } = fitCanvas(this.canvas);
    this.frame = frame;
    const { left, top, areaWidth, areaHeight } = frame;
    const { col0, col1, row0, row1 } = this.view;
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = themeColor("--surface", "#fafafa");
    ctx.fillRect(left, top, areaWidth, areaHeight);
    ctx.drawImage(this.image, col0, row0, col1 - col0, row1 - row0, left, top, areaWidth, areaHeight);
    this.drawHatching(ctx, frame);
    this.drawCellText(ctx, frame);
    ctx.strokeStyle = themeColor("--control-border", "#bdbdbd");
    ctx.lineWidth = 1;
    ctx.strokeRect(left - 0.5, top - 0.5, areaWidth + 1, areaHeight + 1);
    this.drawLabels(ctx, frame);
    if (this.selected) {
      const [x, y] = this.toPixel(this.selected.row, this.selected.col);
      const [w, h] = [areaWidth / (col1 - col0), areaHeight / (row1 - row0)];
      ctx.strokeStyle = "#f57c00";
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, y + 1, Math.max(2, w - 2), Math.max(2, h - 2));
    }
    this.hint.hidden = this.data.rows * this.data.cols < 2;
  }

  /** The visible cells `[row, col, x, y, w, h]` (CSS pixels) for which `test(value, row, col)` holds. */
  visibleCells(test) {
    const { values, cols } = this.data;
    const { col0, col1, row0, row1 } = this.view;
    const cells = [];
    for (let row = Math.floor(row0); row < Math.ceil(row1); row++) {
      for (let col = Math.floor(col0); col < Math.ceil(col1); col++) {
        if (!test(values[row * cols + col], row, col)) continue;
        const [x, y] = this.toPixel(row, col);
        const [x1, y1] = this.toPixel(row + 1, col + 1);
        cells.push([row, col, x, y, x1 - x, y1 - y]);
      }
    }
    return cells;
  }

  /** Diagonal lines over the cells of `options.hatched`: cells without data. */
  drawHatching(ctx, { left, top, areaWidth, areaHeight }) {
    if (!this.options.hatched) return;
    const cells = this.visibleCells(this.options.hatched);
    if (!cells.length) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, areaWidth, areaHeight);
    ctx.clip();
    ctx.beginPath();
    for (const [, , x, y, w, h] of cells) ctx.rect(x, y, w, h);
    ctx.clip();
    ctx.strokeStyle = HATCH_INK;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let d = -areaHeight; d < areaWidth; d += HATCH_GAP_PX) {
      ctx.moveTo(left + d, top + areaHeight);
      ctx.lineTo(left + d + areaHeight, top);
    }
    ctx.stroke();
    ctx.restore();
  }

  /** `options.cellText` printed in each visible cell that it fits, dark or light by the cell's colour. */
  drawCellText(ctx, { areaWidth, areaHeight }) {
    const { cellText, color } = this.options;
    const { col0, col1, row0, row1 } = this.view;
    if (!cellText || areaHeight / (row1 - row0) < CELL_TEXT_MIN_PX) return;
    ctx.font = FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    const cellWidth = areaWidth / (col1 - col0);
    for (const [row, col, x, y, w, h] of this.visibleCells(() => true)) {
      const value = this.data.values[row * this.data.cols + col];
      const text = cellText(value, row, col);
      if (!text || ctx.measureText(text).width > cellWidth - 4) continue;
      const fill = color(value, row, col);
      ctx.fillStyle = fill && luminance(fill) < 0.5 ? "#fff" : "#212121";
      ctx.fillText(text, x + w / 2, y + h / 2);
    }
  }

  drawLabels(ctx, { left, top, areaWidth, areaHeight }) {
    const { rowLabels, colLabels } = this.data;
    const { col0, col1, row0, row1 } = this.view;
    ctx.font = FONT;
    ctx.fillStyle = themeColor("--muted", "#616161");
    const rowPx = areaHeight / (row1 - row0);
    const rowStep = Math.max(1, Math.ceil(LINE_PX / rowPx));
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let row = Math.ceil(row0); row < row1; row += 1) {
      if (row % rowStep) continue;
      const y = top + (row + 0.5 - row0) * rowPx;
      if (y < top || y > top + areaHeight) continue;
      ctx.fillText(ellipsis(ctx, rowLabels[row] ?? "", MAX_LABEL_PX), left - LABEL_GAP_PX, y);
    }
    const colPx = areaWidth / (col1 - col0);
    const needed = this.rotateColLabels ? LINE_PX : Math.max(...colLabels.map((l) => ctx.measureText(l).width), 1) + 6;
    const colStep = Math.max(1, Math.ceil(needed / colPx));
    const y = top + areaHeight + 4;
    for (let col = Math.ceil(col0); col < col1; col += 1) {
      if (col % colStep) continue;
      const x = left + (col + 0.5 - col0) * colPx;
      if (x < left || x > left + areaWidth) continue;
      const text = ellipsis(ctx, colLabels[col] ?? "", MAX_LABEL_PX * 0.6);
      if (this.rotateColLabels) {
        ctx.save();
        ctx.translate(x, y);
        ctx.rotate(-Math.PI / 4);
        ctx.textAlign = "right";
        ctx.fillText(text, 0, 0);
        ctx.restore();
      } else {
        ctx.textAlign = "center";
        ctx.textBaseline = "top";
        ctx.fillText(text, x, y);
      }
    }
    this.drawTitles(ctx, { left, top, areaWidth, areaHeight });
  }

  drawTitles(ctx, { left, top, areaWidth, areaHeight }) {
    const { rowTitle, colTitle } = this.options;
    ctx.fillStyle = themeColor("--muted", "#9e9e9e");
    ctx.textAlign = "center";
    if (colTitle) {
      ctx.textBaseline = "bottom";
      ctx.fillText(colTitle, left + areaWidth / 2, this.frame.height - 1);
    }
    if (rowTitle) {
      ctx.save();
      ctx.translate(LINE_PX - 2, top + areaHeight / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = "middle";
      ctx.fillText(rowTitle, 0, 0);
      ctx.restore();
    }
  }

  /** Top-left CSS pixel of cell (row, col). */
  toPixel(row, col) {
    const { left, top, areaWidth, areaHeight } = this.frame;
    const { col0, col1, row0, row1 } = this.view;
    return [left + ((col - col0) * areaWidth) / (col1 - col0), top + ((row - row0) * areaHeight) / (row1 - row0)];
  }

  /** `{row, col, fx, fy}` under CSS pixel (x, y) (fractional position fx, fy), or null outside. */
  cellAt(x, y) {
    if (!this.frame) return null;
    const { left, top, areaWidth, areaHeight } = this.frame;
    if (x < left || y < top || x >= left + areaWidth || y >= top + areaHeight) return null;
    const { col0, col1, row0, row1 } = this.view;
    const fx = col0 + ((x - left) / areaWidth) * (col1 - col0);
    const fy = row0 + ((y - top) / areaHeight) * (row1 - row0);
    return { row: Math.floor(fy), col: Math.floor(fx), fx, fy };
  }

  listen() {
    const canvas = this.canvas;
    const position = (event) => {
      const box = canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    };
    let drag = null;
    canvas.addEventListener("pointerdown", (event) => {
      drag = { start: position(event), view: { ...this.view }, moved: false };
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", (event) => {
      const [x, y] = position(event);
      if (drag && Math.hypot(x - drag.start[0], y - drag.start[1]) > DRAG_PX) drag.moved = true;
      if (drag?.moved) {
        this.pan(drag, x, y);
        this.options.tooltip.hide();
        return;
      }
      this.hover(x, y, event);
    });
    canvas.addEventListener("pointerup", (event) => {
      const [x, y] = position(event);
      const cell = drag && !drag.moved && this.cellAt(x, y); // A click: down and up here.
      drag = null;
      if (cell && this.options.onClick) this.options.onClick(cell.row, cell.col);
    });
    canvas.addEventListener("pointerleave", () => this.options.tooltip.hide());
    canvas.addEventListener("dblclick", () => this.resetZoom());
    canvas.addEventListener("wheel", (event) => {
      const cell = this.data && this.cellAt(...position(event));
      if (!cell) return;
      event.preventDefault();
      this.zoom(cell, event.deltaY < 0 ? 1 / ZOOM_STEP : ZOOM_STEP);
    }, { passive: false });
  }

  hover(x, y, event) {
    const cell = this.data && this.cellAt(x, y);
    if (!cell) {
      this.options.tooltip.hide();
      return;
    }
    const value = this.data.values[cell.row * this.data.cols + cell.col];
    this.options.tooltip.showText(this.options.describe(value, cell.row, cell.col), event.clientX, event.clientY);
  }

  /** Scales the visible window by `factor` around the cell position (fx, fy). */
  zoom({ fx, fy }, factor) {
    const { rows, cols } = this.data;
    const scaleAxis = (start, end, at, total) => {
      const span = Math.min(total, Math.max(1, (end - start) * factor));
      const begin = Math.min(Math.max(0, at - ((at - start) * span) / (end - start)), total - span);
      return [begin, begin + span];
    };
    const [col0, col1] = scaleAxis(this.view.col0, this.view.col1, fx, cols);
    const [row0, row1] = scaleAxis(this.view.row0, this.view.row1, fy, rows);
    this.view = { col0, col1, row0, row1 };
    this.draw();
  }

  pan(drag, x, y) {
    const { areaWidth, areaHeight } = this.frame;
    const { col0, col1, row0, row1 } = drag.view;
    const dx = ((x - drag.start[0]) / areaWidth) * (col1 - col0);
    const dy = ((y - drag.start[1]) / areaHeight) * (row1 - row0);
    const shift = (start, end, delta, total) => Math.min(Math.max(0, start - delta), total - (end - start));
    const c0 = shift(col0, col1, dx, this.data.cols);
    const r0 = shift(row0, row1, dy, this.data.rows);
    this.view = { col0: c0, col1: c0 + (col1 - col0), row0: r0, row1: r0 + (row1 - row0) };
    this.draw();
  }
}

function ellipsis(ctx, text, maxWidth) {
  if (ctx.measureText(text).width <= maxWidth) return text;
  let end = text.length;
  while (end > 1 && ctx.measureText(`${text.slice(0, end)}…`).width > maxWidth) end--;
  return `${text.slice(0, end)}…`;
}
