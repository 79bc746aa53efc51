// Inter-layer evolution: one projection per layer at one epoch, and trails across layers.
// While the sequence computes, the layers' plots fill in as they finish.

import { element } from "../dom.js";
import { ConfusionView } from "./confusion.js";
import { FrameGrid } from "./frame_grid.js";
import { HitChart } from "./hit_chart.js";
import { TrailView } from "./trails.js";

export class LayerMode {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "mode layer-mode"));
    const multiples = this.root.appendChild(element("section", "card"));
    this.heading = multiples.appendChild(element("h2", "card-title"));
    this.grid = new FrameGrid(multiples, display, "small", "multiples");
    this.hits = new HitChart(multiples);
    this.confusion = new ConfusionView(multiples, display);
    const trailCard = this.root.appendChild(element("section", "card trail-card"));
    this.trails = new TrailView(trailCard, display);
  }

  /**
   * Shows `sequence`, again each time more of its frames are computed.
   * @param {object} sequence Frames of one epoch across layers (null while not computed).
   * @param {{epoch: number, methodName: string}} context
   */
  show(sequence, { epoch, methodName }) {
    this.sequence = sequence;
    const names = sequence.keys.map((key, i) => key.layer ?? `frame ${i + 1}`);
    this.heading.textContent = `${methodName} of each layer at epoch ${epoch}`;
    this.grid.show(sequence, names);
    this.hits.show(names, sequence.frames);
    const predictions = sequence.frames.find(Boolean)?.predictions; // The same at every layer.
    this.confusion.show(sequence, predictions, `Confusion matrix of the probe at epoch ${epoch}`);
    this.trails.show(sequence, `Trails across layers (epoch ${epoch})`, names);
  }

  redraw() {
    this.grid.draw();
    this.trails.draw();
    this.confusion.redraw();
  }
}
