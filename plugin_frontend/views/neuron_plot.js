// One layer's neurons on a canvas: a dot per live neuron at its 2-D position, coloured by the
// caller, and dead (constant) neurons as hollow grey markers in a strip at the bottom.

import { nearestPoint, toPixels } from "../plot.js";
import { PlotView } from "./plot_view.js";

const HOVER_DISTANCE_PX = 10;
const DEAD_COLOR = "#9e9e9e";
const DEAD_LABEL_PX = 64;

/** Dot radius in CSS pixels: neurons are few, so larger than probe points. */
function neuronRadius(count, width) {
  const base = count > 1000 ? 2.2 : count > 250 ? 3 : count > 60 ? 4 : 5.5;
  return base * Math.min(1.3, Math.max(0.7, Math.sqrt(width / 450)));
}

export class NeuronPlot extends PlotView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state: visible, tooltip.
   * @param {(i: number) => Array[]} describe Tooltip rows of neuron `i`.
   */
  constructor(parent, display, describe) {
    super(parent, display, "scatter neuron-plot");
    this.describe = describe;
    this.neurons = null;
    this.canvas.addEventListener("mousemove", (event) => this.hover(event));
    this.canvas.addEventListener("mouseleave", () => display.tooltip.hide());
  }

  /**
   * @param {object} neurons From `buildNeurons`.
   * @param {string} title
   * @param {(i: number) => string} fillOf CSS fill colour of live neuron `i`.
   */
  show(neurons, title, fillOf) {
    this.neurons = neurons;
    this.fillOf = fillOf;
    this.title.textContent = title;
    this.note.textContent = `${neurons.count - neurons.deadCount} live · ${neurons.deadCount} dead`;
    this.draw();
  }

  ready() {
    return this.neurons !== null;
  }

  paint(ctx, width, height) {
    const neurons = this.neurons;
    const radius = neuronRadius(neurons.count, width);
    const { step, perRow, rows } = this.deadLayout(radius, width, height);
    const deadRadius = Math.min(radius, (step - 1) / 2);
    const strip = rows ? rows * step + 12 : 0;
    // Reuse the pixel buffer only while it has the size of these neurons' positions.
    const reuse = this.pixels?.length === neurons.xy.length ? this.pixels : undefined;
    this.pixels = toPixels(neurons.xy, neurons.extent, width, height - strip, reuse);
    this.placeDead(perRow, step, height - strip + 6 + step / 2);
    const visible = this.visible();
    ctx.lineWidth = 1;
    for (let i = 0; i < neurons.count; i++) {
      ctx.beginPath();
      ctx.arc(this.pixels[2 * i], this.pixels[2 * i + 1], neurons.dead[i] ? deadRadius : radius, 0, 2 * Math.PI);
      if (neurons.dead[i]) {
        ctx.strokeStyle = DEAD_COLOR;
        ctx.stroke();
      } else if (visible[neurons.best[i]]) {
        ctx.fillStyle = this.fillOf(i);
        ctx.fill();
        ctx.strokeStyle = "rgba(0,0,0,0.18)";
        ctx.stroke();
      }
    }
    if (strip) {
      ctx.strokeStyle = "#e0e0e0";
      ctx.beginPath();
      ctx.moveTo(0, height - strip + 0.5);
      ctx.lineTo(width, height - strip + 0.5);
      ctx.stroke();
      ctx.fillStyle = "#757575";
      ctx.font = "12px Roboto, Arial, sans-serif";
      ctx.textBaseline = "middle";
      ctx.fillText(`${neurons.deadCount} dead`, 8, height - strip + 6 + step / 2);
    }
  }

  /** Marker spacing of the dead strip: as for live neurons, smaller until every marker fits in 40% of the plot. */
  deadLayout(radius, width, height) {
    const layout = (step) => {
      const perRow = Math.max(1, Math.floor((width - DEAD_LABEL_PX - 8) / step));
      return { step, perRow, rows: Math.ceil(this.neurons.deadCount / perRow) };
    };
    let fit = layout(2 * radius + 4);
    while (fit.step > 2 && fit.rows * fit.step + 12 > height * 0.4) fit = layout(fit.step * 0.9);
    return fit;
  }

  /** Puts the dead neurons' pixels in rows of `perRow` markers, from `top` down. */
  placeDead(perRow, step, top) {
    let k = 0;
    for (let i = 0; i < this.neurons.count; i++) {
      if (!this.neurons.dead[i]) continue;
      this.pixels[2 * i] = DEAD_LABEL_PX + step / 2 + (k % perRow) * step;
      this.pixels[2 * i + 1] = top + Math.floor(k / perRow) * step;
      k++;
    }
  }

  /** Visibility by best class (the legend's), with dead neurons (class -1) always shown. */
  visible() {
    const visible = this.display.visible;
    return Object.assign([], visible, { [-1]: 1 });
  }

  hover(event) {
    if (!this.neurons || !this.pixels) return;
    const box = this.canvas.getBoundingClientRect();
    const index = nearestPoint(
      this.pixels, this.neurons.best, this.visible(),
      event.clientX - box.left, event.clientY - box.top, HOVER_DISTANCE_PX,
    );
    if (index < 0) this.display.tooltip.hide();
    else this.display.tooltip.showText(this.describe(index), event.clientX, event.clientY);
  }
}
