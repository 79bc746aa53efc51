// Neighborhood hit of every layer over epochs, one line per layer (dark = first layer, bright =
// last, as the trails across layers), the shown layer drawn thicker and the shown epoch marked.

import { element } from "../dom.js";
import { shade, themeColor } from "../colors.js";
import { fitCanvas } from "../plot.js";
import { rampPosition } from "./trail_marks.js";

const LINE_HUE = { rgb: [245, 124, 0] }; // TensorBoard's orange.
const MARGIN = { left: 34, right: 130, top: 8, bottom: 20 };
const LABEL_GAP_PX = 11;

export class NhChart {
  /**
   * @param {HTMLElement} parent
   * @param {?(epoch: number) => void} onSelect Called with the epoch clicked, if given.
   */
  constructor(parent, onSelect = null) {
    this.root = parent.appendChild(element("div", "nh-chart"));
    this.root.style.marginTop = "14px";
    const header = this.root.appendChild(element("div", "section-title", "Neighborhood hit of every layer over epochs (k = 6)"));
    this.note = header.appendChild(element("span"));
    Object.assign(this.note.style, { marginLeft: "8px", textTransform: "none", fontWeight: "normal" });
    this.fill = header.appendChild(element("button", "link-button nh-fill", "compute the other layers"));
    this.fill.title = "Computes the projection of every layer at every epoch (t-SNE: minutes for thousands of points).";
    Object.assign(this.fill.style, { textTransform: "none", marginLeft: "6px" });
    this.fill.addEventListener("click", () => this.onFill?.());
    this.canvas = this.root.appendChild(element("canvas"));
    Object.assign(this.canvas.style, { display: "block", width: "100%", height: "180px" });
    this.data = null;
    new ResizeObserver(() => this.draw()).observe(this.canvas);
    if (onSelect) {
      this.canvas.style.cursor = "pointer";
      this.canvas.addEventListener("click", (event) => {
        const epoch = this.epochAt(event.offsetX);
        if (epoch !== null) onSelect(epoch);
      });
    }
  }

  /**
   * @param {(?number)[][]} table `[layer][epoch index]` NH, null where unknown.
   * @param {string[]} layers @param {number[]} epochs
   * @param {{layer: ?string, epoch: ?number, failed: ?string, fill: ?() => void}} current The shown
   *   layer and epoch, why filling in stopped, and what fetches the rest if the user asks.
   */
  show(table, layers, epochs, current) {
    this.data = { table, layers, epochs, current };
    this.onFill = current.fill;
    this.fill.hidden = !current.fill;
    const complete = table.filter((row) => row.every((nh) => nh !== null)).length;
    this.note.textContent = current.failed ? `(stopped: ${current.failed})`
      : complete < layers.length ? `(${complete} of ${layers.length} layers${current.fill ? ")" : " so far…)"}` : "";
    this.canvas.title = layers.map((layer, l) => `${layer}: ${epochs.map((epoch, e) =>
      `e${epoch} ${table[l][e]?.toFixed(3) ?? "…"}`).join(", ")}`).join("\n");
    this.draw();
  }

  /** Pixel x of `epoch` and the epoch nearest to pixel x. */
  scaleX(width) {
    const { epochs } = this.data;
    const [first, last] = [epochs[0], epochs[epochs.length - 1]];
    const span = Math.max(1, last - first);
    return (epoch) => MARGIN.left + ((epoch - first) / span) * (width - MARGIN.left - MARGIN.right);
  }

  epochAt(x) {
    if (!this.data) return null;
    const toX = this.scaleX(this.canvas.clientWidth);
    const distances = this.data.epochs.map((epoch) => Math.abs(toX(epoch) - x));
    return this.data.epochs[distances.indexOf(Math.min(...distances))];
  }

  draw() {
    if (!this.data || !this.canvas.isConnected) return;
    const { ctx, width, height } = fitCanvas(this.canvas);
    const { table, layers, epochs, current } = this.data;
    const known = table.flat().filter((nh) => nh !== null);
    const low = known.length ? Math.max(0, Math.floor(Math.min(...known) * 10 - 0.5) / 10) : 0;
    const high = known.length ? Math.min(1, Math.ceil(Math.max(...known) * 10 + 0.5) / 10) : 1;
    const toX = this.scaleX(width);
    const toY = (nh) => height - MARGIN.bottom - ((nh - low) / (high - low)) * (height - MARGIN.top - MARGIN.bottom);
    ctx.font = "10px sans-serif";
    ctx.fillStyle = themeColor("--muted", "#616161");
    ctx.strokeStyle = themeColor("--track", "#eeeeee");
    ctx.lineWidth = 1;
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    for (let tick = Math.ceil(low * 10); tick <= Math.floor(high * 10); tick++) {
      const y = toY(tick / 10);
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y);
      ctx.lineTo(width - MARGIN.right, y);
      ctx.stroke();
      ctx.fillText((tick / 10).toFixed(1), MARGIN.left - 4, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const epoch of epochs) ctx.fillText(`e${epoch}`, toX(epoch), height - MARGIN.bottom + 4);
    if (current.epoch !== null && epochs.includes(current.epoch)) {
      ctx.strokeStyle = themeColor("--control-border", "#bdbdbd");
      ctx.beginPath();
      ctx.moveTo(toX(current.epoch), MARGIN.top);
      ctx.lineTo(toX(current.epoch), height - MARGIN.bottom);
      ctx.stroke();
    }
    const ends = [];
    layers.forEach((layer, l) => {
      const color = shade(LINE_HUE, rampPosition(l / Math.max(1, layers.length - 1)));
      const points = epochs.map((epoch, e) => table[l][e] === null ? null : [toX(epoch), toY(table[l][e])]);
      ctx.strokeStyle = ctx.fillStyle = color;
      ctx.lineWidth = layer === current.layer ? 3 : 1.5;
      ctx.beginPath();
      points.forEach((point, e) => {
        if (!point) return;
        if (points[e - 1]) ctx.lineTo(...point);
        else ctx.moveTo(...point);
      });
      ctx.stroke();
      for (const point of points.filter(Boolean)) {
        ctx.beginPath();
        ctx.arc(point[0], point[1], layer === current.layer ? 3 : 2, 0, 2 * Math.PI);
        ctx.fill();
      }
      const last = points.findLastIndex(Boolean);
      if (last >= 0) ends.push({ y: points[last][1], text: `L${l + 1} ${layer} ${table[l][last].toFixed(2)}`, color, bold: layer === current.layer });
    });
    ends.sort((a, b) => a.y - b.y); // Spread the labels apart: downwards, then back up from the bottom.
    ends.forEach((end, i) => (end.y = Math.max(end.y, i ? ends[i - 1].y + LABEL_GAP_PX : MARGIN.top)));
    for (let i = ends.length - 1; i >= 0; i--) {
      ends[i].y = Math.min(ends[i].y, i + 1 < ends.length ? ends[i + 1].y - LABEL_GAP_PX : height - MARGIN.bottom);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    for (const end of ends) {
      ctx.font = `${end.bold ? "bold " : ""}10px sans-serif`;
      ctx.fillStyle = end.color;
      ctx.fillText(end.text, width - MARGIN.right + 6, end.y);
    }
  }
}
