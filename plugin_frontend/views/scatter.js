// One projection drawn on a canvas: title, neighborhood hit, hover tooltip.

import { element } from "../dom.js";
import { rgba } from "../colors.js";
import { discSprite, fitCanvas, nearestPoint, pointRadius, toPixels } from "../plot.js";

const POINT_ALPHA = 0.65;
const HOVER_DISTANCE_PX = 8;

export class ScatterView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state: colors, visible, tooltip.
   * @param {string} className "small" or "large".
   */
  constructor(parent, display, className) {
    this.display = display;
    this.root = parent.appendChild(element("div", `scatter ${className}`));
    const header = this.root.appendChild(element("div", "plot-header"));
    this.title = header.appendChild(element("span", "plot-title"));
    this.hit = header.appendChild(element("span", "plot-hit"));
    this.canvas = this.root.appendChild(element("canvas", "plot-canvas"));
    this.pixels = null;
    this.frame = null;
    this.canvas.addEventListener("mousemove", (event) => this.hover(event));
    this.canvas.addEventListener("mouseleave", () => display.tooltip.hide());
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  /**
   * @param {object} sequence From `buildSequence`.
   * @param {{title: string, xy: Float32Array, nh: number, predictions: ?number[]}} frame
   */
  show(sequence, frame) {
    this.sequence = sequence;
    this.frame = frame;
    this.title.textContent = frame.title;
    this.hit.textContent = `NH ${frame.nh.toFixed(3)}`;
    this.hit.title = `Neighborhood hit: the fraction of each point's k nearest 2-D neighbours that share its class, averaged.`;
    this.draw();
  }

  draw() {
    if (!this.frame || !this.canvas.isConnected) return;
    const { ctx, width, height } = fitCanvas(this.canvas);
    const { labels, order, extent } = this.sequence;
    this.pixels = toPixels(this.frame.xy, extent, width, height, this.pixels ?? undefined);
    const sprites = this.sprites(pointRadius(labels.length, width));
    const visible = this.display.visible;
    for (const i of order) {
      const label = labels[i];
      if (!visible[label]) continue;
      const { image, size } = sprites[label];
      ctx.drawImage(image, this.pixels[2 * i] - size / 2, this.pixels[2 * i + 1] - size / 2, size, size);
    }
  }

  /** One disc per class, remade only when the radius or the colours change. */
  sprites(radius) {
    const colors = this.display.colors;
    if (this.spriteKey?.radius !== radius || this.spriteKey?.colors !== colors) {
      this.spriteKey = { radius, colors };
      this.spriteCache = colors.map((color) => discSprite(rgba(color, POINT_ALPHA), radius));
    }
    return this.spriteCache;
  }

  hover(event) {
    if (!this.pixels) return;
    const box = this.canvas.getBoundingClientRect();
    const index = nearestPoint(
      this.pixels, this.sequence.labels, this.display.visible,
      event.clientX - box.left, event.clientY - box.top, HOVER_DISTANCE_PX,
    );
    if (index < 0) {
      this.display.tooltip.hide();
      return;
    }
    const predictions = this.frame.predictions;
    this.display.tooltip.show(
      { index, label: this.sequence.labels[index], prediction: predictions ? predictions[index] : null },
      event.clientX, event.clientY,
    );
  }
}
