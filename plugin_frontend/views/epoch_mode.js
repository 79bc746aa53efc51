// Inter-epoch evolution: one layer's projection animated over epochs, and trails across epochs.

import { element } from "../dom.js";
import { interpolate } from "../data.js";
import { ConfusionView } from "./confusion.js";
import { HitChart } from "./hit_chart.js";
import { Player } from "./player.js";
import { ScatterView } from "./scatter.js";
import { TrailView } from "./trails.js";

export class EpochMode {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "mode epoch-mode"));
    const projectionCard = this.root.appendChild(element("section", "card projection-card"));
    this.scatter = new ScatterView(projectionCard, display, "large");
    this.player = new Player(projectionCard, (position) => this.showPosition(position));
    this.hits = new HitChart(projectionCard, (index) => this.player.moveTo(index));
    this.confusion = new ConfusionView(projectionCard, display);
    const trailCard = this.root.appendChild(element("section", "card trail-card"));
    this.trails = new TrailView(trailCard, display);
    this.sequence = null;
  }

  /**
   * @param {object} sequence Frames of one layer across epochs.
   * @param {{layer: string, methodName: string, epoch: number}} context `epoch`: the frame to show first.
   */
  show(sequence, { layer, methodName, epoch }) {
    this.sequence = sequence;
    this.layer = layer;
    this.methodName = methodName;
    this.buffer = new Float32Array(sequence.frames[0].xy.length);
    const names = sequence.frames.map((frame) => `epoch ${frame.epoch}`);
    const start = sequence.frames.findIndex((frame) => frame.epoch === epoch);
    this.hits.show(names, sequence.frames.map((frame) => frame.nh));
    this.player.setFrames(names, start >= 0 ? start : names.length - 1);
    this.trails.show(sequence, `Trails of ${layer} across epochs`, names);
  }

  /** Shows the (interpolated) frame at fractional index `position`. */
  showPosition(position) {
    const frames = this.sequence.frames;
    const i = Math.min(Math.floor(position), frames.length - 1);
    const f = position - i;
    const nearest = frames[Math.round(position)];
    this.hits.select(Math.round(position));
    if (nearest !== this.confusionFrame) {
      this.confusionFrame = nearest;
      this.confusion.show(this.sequence, nearest.predictions, `Confusion matrix of the probe at epoch ${nearest.epoch}`);
    }
    const xy = f > 0 ? interpolate(frames[i].xy, frames[i + 1].xy, f, this.buffer) : frames[i].xy;
    this.scatter.show(this.sequence, {
      ...nearest,
      xy,
      title: `${this.methodName} of ${this.layer} at epoch ${nearest.epoch}`,
    });
  }

  /** The epoch of the frame shown (to keep it when the data reloads). */
  get epoch() {
    return this.sequence ? this.sequence.frames[Math.round(this.player.position)].epoch : null;
  }

  redraw() {
    this.scatter.draw();
    this.trails.draw();
    this.confusion.redraw();
  }
}
