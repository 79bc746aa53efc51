// Inter-epoch evolution: one layer's projection animated over epochs, every epoch's projection
// in small, and trails across epochs. While the sequence computes, the frames fill in as they
// finish; the large plot shows the chosen epoch, or until it is there the latest one finished,
// and the trails run up to the player's position.

import { element } from "../dom.js";
import { interpolate } from "../data.js";
import { ConfusionView } from "./confusion.js";
import { FrameGrid } from "./frame_grid.js";
import { HitChart } from "./hit_chart.js";
import { hitGrid } from "../neighborhood_hits.js";
import { NhChart } from "./nh_chart.js";
import { Player } from "./player.js";
import { ProjectorLink } from "./projector_link.js";
import { ScatterView } from "./scatter.js";
import { TrailView } from "./trails.js";

/** Index of the last frame of `frames` that is there (finished or provisional), or -1. */
function lastShown(frames) {
  return frames.findLastIndex(Boolean);
}

export class EpochMode {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "mode epoch-mode"));
    const projectionCard = this.root.appendChild(element("section", "card projection-card"));
    this.scatter = new ScatterView(projectionCard, display, "large");
    this.player = new Player(projectionCard, (position, byUser) => this.showPosition(position, byUser));
    this.projectorLink = new ProjectorLink(projectionCard);
    this.hits = new HitChart(projectionCard, (index) => this.player.moveTo(index, true));
    this.confusion = new ConfusionView(projectionCard, display);
    const trailCard = this.root.appendChild(element("section", "card trail-card"));
    this.trails = new TrailView(trailCard, display);
    this.nh = new NhChart(trailCard, (epoch) => this.player.moveTo(this.sequence.keys.findIndex((key) => key.epoch === epoch), true));
    this.filmstrip = new FrameGrid(trailCard, display, "tiny", "filmstrip");
    this.sequence = null;
    this.names = [];
    this.wanted = null; // The epoch to show, and whether the user chose it.
    this.wantedByUser = false;
  }

  /**
   * Shows `sequence`, again each time more of its frames are computed.
   * @param {object} sequence Frames of one layer across epochs (null while not computed).
   * @param {{layer: string, methodName: string, epoch: number, grid: ?object}} context `epoch`: the
   *   frame to show first; `grid`: the NH chart's `hitGrid` params (else it shows this layer only).
   */
  show(sequence, { layer, methodName, epoch, grid }) {
    const names = sequence.keys.map((key, i) => (key.epoch === null ? `frame ${i + 1}` : `epoch ${key.epoch}`));
    const newFrames = names.join() !== this.names.join();
    this.sequence = sequence;
    this.layer = layer;
    this.methodName = methodName;
    this.names = names;
    this.buffer = new Float32Array(2 * sequence.labels.length);
    this.hits.show(names, sequence.frames);
    const marks = sequence.keys.map((key, i) => (key.epoch === null ? `f${i + 1}` : `e${key.epoch}`));
    this.trails.show(sequence, `Trails of ${layer} across epochs`, names, marks);
    this.filmstrip.show(sequence, names);
    const epochs = sequence.keys.map((key) => key.epoch);
    this.run = grid?.run;
    this.hitGrid = hitGrid(grid ?? { layers: [layer], epochs }, () => this.showHits());
    this.hitGrid.update(sequence);
    if (newFrames) {
      this.wanted = epoch;
      this.wantedByUser = false;
      this.player.setFrames(names, this.target());
    } else if (Math.round(this.player.position) !== this.target()) this.player.moveTo(this.target());
    else this.showPosition(this.player.position, false);
    this.player.setPlayable(sequence.complete);
  }

  /** The NH chart, at the shown layer and epoch. */
  showHits() {
    const { layers, epochs } = this.hitGrid.params;
    const epoch = this.sequence.keys[Math.round(this.player.position)]?.epoch ?? null;
    this.nh.show(this.hitGrid.table(), layers, epochs, {
      layer: this.layer, epoch, failed: this.hitGrid.failed, fill: this.hitGrid.startable() ? () => this.hitGrid.start() : null,
    });
  }

  /** The frame to show: the wanted epoch's, unless it is not there yet and nobody chose it. */
  target() {
    const { frames, keys } = this.sequence;
    const wanted = keys.findIndex((key) => key.epoch === this.wanted);
    const index = wanted >= 0 ? wanted : frames.length - 1;
    return frames[index] || this.wantedByUser || lastShown(frames) < 0 ? index : lastShown(frames);
  }

  /** Shows the (interpolated) frame at fractional index `position`; `byUser`: the user moved there. */
  showPosition(position, byUser) {
    const { frames, keys } = this.sequence;
    const index = Math.round(position);
    if (byUser) {
      this.wanted = keys[index].epoch;
      this.wantedByUser = true;
    }
    const i = Math.min(Math.floor(position), frames.length - 1);
    const f = position - i;
    const nearest = frames[index];
    this.hits.select(index);
    this.projectorLink.show(this.run, [this.layer], keys[index].epoch);
    this.display.events?.dispatchEvent(new CustomEvent("epoch-shown", { detail: { epoch: keys[index].epoch } }));
    this.trails.setHead(position);
    if (this.hitGrid && index !== this.hitIndex) {
      this.hitIndex = index;
      this.showHits();
    }
    if (nearest !== this.confusionFrame) {
      this.confusionFrame = nearest;
      this.confusion.show(this.sequence, nearest?.predictions, `Confusion matrix of the probe at ${this.names[index]}`,
        { run: this.run, epoch: keys[index].epoch });
    }
    const between = f > 0 && [frames[i], frames[i + 1]].every((frame) => frame && !frame.partial);
    const xy = between ? interpolate(frames[i].xy, frames[i + 1].xy, f, this.buffer) : nearest?.xy;
    this.scatter.show(this.sequence, {
      ...nearest,
      xy,
      title: `${this.methodName} of ${this.layer} at ${this.names[index]}`,
    });
  }

  /** The epoch chosen (to keep it when the data reloads). */
  get epoch() {
    return this.sequence ? this.wanted : null;
  }

  redraw() {
    this.scatter.draw();
    this.filmstrip.draw();
    this.trails.draw();
    this.nh.draw();
    this.confusion.redraw();
  }
}
