// One projection on a canvas: points (or thumbnails), neighborhood hit, hover tooltip, and
// brushing: drag a rectangle to select its points everywhere, click a point to select it alone,
// click empty space to clear the selection.

import { rgba, NEUTRAL } from "../colors.js";
import { discSprite, nearestPoint, pointRadius, toPixels } from "../plot.js";
import { PlotView } from "./plot_view.js";
import { paintThumbnails } from "./thumbnails.js";

const POINT_ALPHA = 0.65;
const FADED_ALPHA = 0.18;
const HOVER_DISTANCE_PX = 8;
const DRAG_THRESHOLD_PX = 4;
const NH_HELP = "Neighborhood hit: the fraction of each point's k nearest 2-D neighbours that share its class, averaged.";
const PENDING_HELP = "This projection is still being computed; it appears here when it is done.";
const PARTIAL_HELP = "A provisional layout: t-SNE is still optimising this projection.";

export class ScatterView extends PlotView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state: colors, visible, selection, select(), tooltip,
   *   pointStyle ("points" or "thumbnails"), atlas (thumbnail atlas or null).
   * @param {string} className "small" or "large".
   */
  constructor(parent, display, className) {
    super(parent, display, `scatter ${className}`);
    this.note.classList.add("plot-hit");
    this.pixels = null;
    this.frame = null;
    this.brush = null;
    this.canvas.addEventListener("pointerdown", (event) => this.startBrush(event));
    this.canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    this.canvas.addEventListener("pointerup", (event) => this.endBrush(event));
    this.canvas.addEventListener("mouseleave", () => display.tooltip.hide());
  }

  /**
   * Shows `frame`, or while its `xy` is missing an empty placeholder (state "pending"); a frame
   * still being optimised (`partial`) is drawn in its own `extent` (state "partial").
   * @param {object} sequence From `buildSequence`.
   * @param {{title: string, xy: ?Float32Array, nh: ?number, predictions: ?number[], partial?: boolean,
   *   extent?: number}} frame
   */
  show(sequence, frame) {
    this.sequence = sequence;
    this.frame = frame;
    const state = !frame.xy ? "pending" : frame.partial ? "partial" : "ready";
    this.root.dataset.state = state;
    this.title.textContent = frame.title;
    this.note.textContent = { pending: "computing…", partial: "refining…" }[state] ?? `NH ${frame.nh.toFixed(3)}`;
    this.note.title = { pending: PENDING_HELP, partial: PARTIAL_HELP }[state] ?? NH_HELP;
    if (state === "pending") this.pixels = null;
    this.draw();
  }

  ready() {
    return Boolean(this.frame?.xy);
  }

  paint(ctx, width, height) {
    const { labels, order } = this.sequence;
    const { visible, selection, atlas, pointStyle } = this.display;
    this.pixels = toPixels(this.frame.xy, this.frame.extent ?? this.sequence.extent, width, height);
    const radius = pointRadius(labels.length, width);
    const sprites = this.sprites(radius);
    const stamp = (i, sprite) => ctx.drawImage(sprite.image, this.pixels[2 * i] - sprite.size / 2, this.pixels[2 * i + 1] - sprite.size / 2, sprite.size, sprite.size);
    const thumbnails = pointStyle === "thumbnails" && atlas;
    for (const i of order) {
      if (!visible[labels[i]]) continue;
      const chosen = !selection || selection[i];
      stamp(i, chosen && !thumbnails ? sprites.classes[labels[i]] : sprites.faded);
    }
    if (thumbnails) paintThumbnails(ctx, this.pixels, this.sequence, this.display, atlas, width);
    if (this.brush) {
      const { x0, y0, x1, y1 } = this.brush;
      ctx.strokeStyle = "rgba(33,33,33,0.7)";
      ctx.lineWidth = 1;
      ctx.strokeRect(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
    }
  }

  /** One disc per class and a faded grey one, remade only when the radius or the colours change. */
  sprites(radius) {
    const colors = this.display.colors;
    if (this.spriteKey?.radius !== radius || this.spriteKey?.colors !== colors) {
      this.spriteKey = { radius, colors };
      this.spriteCache = {
        classes: colors.map((color) => discSprite(rgba(color, POINT_ALPHA), radius)),
        faded: discSprite(rgba(NEUTRAL, FADED_ALPHA), radius),
      };
    }
    return this.spriteCache;
  }

  position(event) {
    const box = this.canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  startBrush(event) {
    if (!this.pixels || event.button !== 0) return;
    const [x, y] = this.position(event);
    this.brush = { x0: x, y0: y, x1: x, y1: y, dragging: false };
    this.canvas.setPointerCapture(event.pointerId);
  }

  pointerMove(event) {
    if (!this.brush) {
      this.hover(event);
      return;
    }
    [this.brush.x1, this.brush.y1] = this.position(event);
    const { x0, y0, x1, y1 } = this.brush;
    if (Math.hypot(x1 - x0, y1 - y0) > DRAG_THRESHOLD_PX) this.brush.dragging = true;
    if (this.brush.dragging) {
      this.display.tooltip.hide();
      this.draw();
    }
  }

  /** Selects the points in the rectangle, or on a click the point under the pointer (or none). */
  endBrush(event) {
    const brush = this.brush;
    if (!brush) return;
    this.brush = null;
    const { labels } = this.sequence;
    const visible = this.display.visible;
    if (!brush.dragging) {
      const index = this.pointAt(event);
      this.display.select(index < 0 ? null : [index]);
      return;
    }
    const [left, right] = [Math.min(brush.x0, brush.x1), Math.max(brush.x0, brush.x1)];
    const [top, bottom] = [Math.min(brush.y0, brush.y1), Math.max(brush.y0, brush.y1)];
    const chosen = [];
    for (let i = 0; i < labels.length; i++) {
      const [x, y] = [this.pixels[2 * i], this.pixels[2 * i + 1]];
      if (visible[labels[i]] && x >= left && x <= right && y >= top && y <= bottom) chosen.push(i);
    }
    this.display.select(chosen.length ? chosen : null);
  }

  pointAt(event) {
    const [x, y] = this.position(event);
    return nearestPoint(this.pixels, this.sequence.labels, this.display.visible, x, y, HOVER_DISTANCE_PX);
  }

  hover(event) {
    if (!this.pixels) return;
    const index = this.pointAt(event);
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
