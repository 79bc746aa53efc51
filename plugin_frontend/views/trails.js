// Trails: each point's path through a sequence of aligned frames, drawn per piece with
// hue = class and brightness = position in the sequence (dark = first, bright = last).
// Straight trails join the frame positions; bundled ones (./evolution?bundle=1) bend towards the
// other trails of their class between frames. While a sequence computes, the trails join the
// longest run of consecutive finished frames. Which trails: a fixed sample, the misclassified
// points, or the points selected by brushing.

import { element } from "../dom.js";
import { NEUTRAL, shade } from "../colors.js";
import { finishedSpan, sample } from "../data.js";
import { toPixels } from "../plot.js";
import { PlotView } from "./plot_view.js";

const TRAIL_ALPHA = 0.45;
const SELECTED_ALPHA = 0.8;
const END_RADIUS_PX = 1.3;

export class TrailView extends PlotView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state: colors, visible, trailCount, trailFilter
   *   ("sample" or "misclassified"), selection.
   */
  constructor(parent, display) {
    super(parent, display, "trails");
    this.ramp = this.root.appendChild(element("div", "ramp"));
    this.rampStart = this.ramp.appendChild(element("span", "ramp-label"));
    const bar = this.ramp.appendChild(element("span", "ramp-bar"));
    bar.style.background = `linear-gradient(to right, ${shade(NEUTRAL, 0)}, ${shade(NEUTRAL, 0.6)}, ${shade(NEUTRAL, 1)})`;
    this.rampEnd = this.ramp.appendChild(element("span", "ramp-label"));
    this.hint = this.root.appendChild(element("div", "plot-hint"));
    this.sequence = null;
  }

  /**
   * @param {object} sequence From `buildSequence` (with `trails` if bundled).
   * @param {string} title
   * @param {string[]} names Name of each frame (layer or epoch), for the brightness legend.
   */
  show(sequence, title, names) {
    this.sequence = sequence;
    this.titleText = title;
    const [start, end] = finishedSpan(sequence.frames);
    this.span = [start, end];
    this.rampStart.textContent = names[start] ?? "";
    this.rampEnd.textContent = names[end - 1] ?? "";
    this.ramp.hidden = !this.ready();
    if (!this.ready()) {
      this.title.textContent = title;
      this.note.textContent = "";
      this.hint.textContent = "The trails appear when two consecutive frames are computed.";
    }
    this.draw();
  }

  /** Whether two consecutive frames are finished. */
  ready() {
    return this.sequence !== null && this.span[1] - this.span[0] >= 2;
  }

  /** The positions each trail passes through: the bundled vertices, or the finished frames' points. */
  vertices() {
    const { frames, trails } = this.sequence;
    return trails ? trails.vertices : frames.slice(...this.span).map((frame) => frame.xy);
  }

  /** The points whose trails are drawn, and how they were chosen. */
  chosen() {
    const { labels, frames } = this.sequence;
    const { visible, trailCount, trailFilter, selection } = this.display;
    if (selection) {
      const picked = this.sequence.order.filter((i) => selection[i] && visible[labels[i]]).slice(0, trailCount);
      return { points: Array.from(picked), what: "selected" };
    }
    if (trailFilter === "misclassified") {
      const predictions = frames[this.span[1] - 1].predictions;
      if (predictions) {
        const wrong = this.sequence.order.filter((i) => visible[labels[i]] && predictions[i] !== labels[i]);
        return { points: Array.from(wrong.slice(0, trailCount)), what: `misclassified (of ${wrong.length})` };
      }
    }
    return { points: sample(this.sequence, visible, trailCount), what: "sampled" };
  }

  paint(ctx, width, height) {
    const start = performance.now();
    const { labels, extent, trails } = this.sequence;
    const { colors } = this.display;
    const { points, what } = this.chosen();
    const vertices = this.vertices().map((xy) => toPixels(xy, extent, width, height));
    const byClass = colors.map(() => []);
    for (const i of points) byClass[labels[i]].push(i);
    const pieces = vertices.length - 1;
    const alpha = this.display.selection ? SELECTED_ALPHA : TRAIL_ALPHA;
    ctx.lineWidth = 1;
    for (let s = 0; s < pieces; s++) {
      const [a, b] = [vertices[s], vertices[s + 1]];
      byClass.forEach((members, label) => {
        if (!members.length) return;
        ctx.strokeStyle = shade(colors[label], (s + 0.5) / pieces, alpha);
        ctx.beginPath();
        for (const i of members) {
          ctx.moveTo(a[2 * i], a[2 * i + 1]);
          ctx.lineTo(b[2 * i], b[2 * i + 1]);
        }
        ctx.stroke();
      });
    }
    const last = vertices[pieces];
    byClass.forEach((members, label) => {
      ctx.fillStyle = shade(colors[label], 1, 0.9);
      for (const i of members) {
        ctx.fillRect(last[2 * i] - END_RADIUS_PX, last[2 * i + 1] - END_RADIUS_PX, 2 * END_RADIUS_PX, 2 * END_RADIUS_PX);
      }
    });
    this.canvas.dataset.renderMs = (performance.now() - start).toFixed(1);
    this.title.textContent = `${this.titleText}${trails ? ", bundled per class" : ""}`;
    this.note.textContent = `${points.length} of ${labels.length} points, ${what}`;
    const span = `So far from ${this.rampStart.textContent} to ${this.rampEnd.textContent}: the trails grow as frames are computed. `;
    this.hint.textContent = (this.sequence.complete ? "" : span) + (this.display.selection
      ? "Trails of the selected points. Click empty space in a projection to clear the selection."
      : "Drag a rectangle in a projection to see the trails of its points.");
  }
}
