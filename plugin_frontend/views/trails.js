// Trails: each sampled point's path through a sequence of aligned frames, drawn per segment
// with hue = class and brightness = position in the sequence (dark = first, bright = last).

import { element } from "../dom.js";
import { NEUTRAL, shade } from "../colors.js";
import { sample } from "../data.js";
import { fitCanvas, toPixels } from "../plot.js";

const TRAIL_ALPHA = 0.45;
const END_RADIUS_PX = 1.3;

export class TrailView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state: colors, visible, trailCount.
   */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "trails"));
    const header = this.root.appendChild(element("div", "plot-header"));
    this.title = header.appendChild(element("span", "plot-title"));
    this.count = header.appendChild(element("span", "plot-note"));
    this.canvas = this.root.appendChild(element("canvas", "plot-canvas"));
    const ramp = this.root.appendChild(element("div", "ramp"));
    this.rampStart = ramp.appendChild(element("span", "ramp-label"));
    const bar = ramp.appendChild(element("span", "ramp-bar"));
    bar.style.background = `linear-gradient(to right, ${shade(NEUTRAL, 0)}, ${shade(NEUTRAL, 0.6)}, ${shade(NEUTRAL, 1)})`;
    this.rampEnd = ramp.appendChild(element("span", "ramp-label"));
    this.sequence = null;
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  /**
   * @param {object} sequence From `buildSequence`.
   * @param {string} title
   * @param {string[]} names Name of each frame (layer or epoch), for the brightness legend.
   */
  show(sequence, title, names) {
    this.sequence = sequence;
    this.title.textContent = title;
    this.rampStart.textContent = names[0];
    this.rampEnd.textContent = names[names.length - 1];
    this.draw();
  }

  draw() {
    if (!this.sequence || !this.canvas.isConnected) return;
    const start = performance.now();
    const { ctx, width, height } = fitCanvas(this.canvas);
    const { frames, labels, extent } = this.sequence;
    const { colors, visible, trailCount } = this.display;
    const chosen = sample(this.sequence, visible, trailCount);
    const pixels = frames.map((frame) => toPixels(frame.xy, extent, width, height));
    const byClass = colors.map(() => []);
    for (const i of chosen) byClass[labels[i]].push(i);
    const steps = Math.max(1, frames.length - 1);
    ctx.lineWidth = 1;
    for (let s = 0; s + 1 < frames.length; s++) {
      const [a, b] = [pixels[s], pixels[s + 1]];
      byClass.forEach((members, label) => {
        if (!members.length) return;
        ctx.strokeStyle = shade(colors[label], (s + 0.5) / steps, TRAIL_ALPHA);
        ctx.beginPath();
        for (const i of members) {
          ctx.moveTo(a[2 * i], a[2 * i + 1]);
          ctx.lineTo(b[2 * i], b[2 * i + 1]);
        }
        ctx.stroke();
      });
    }
    const last = pixels[pixels.length - 1];
    byClass.forEach((members, label) => {
      ctx.fillStyle = shade(colors[label], 1, 0.9);
      for (const i of members) {
        ctx.fillRect(last[2 * i] - END_RADIUS_PX, last[2 * i + 1] - END_RADIUS_PX, 2 * END_RADIUS_PX, 2 * END_RADIUS_PX);
      }
    });
    this.canvas.dataset.renderMs = (performance.now() - start).toFixed(1);
    this.count.textContent = `${chosen.length} of ${labels.length} points`;
  }
}
