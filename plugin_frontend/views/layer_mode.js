// Inter-layer evolution: one projection per layer at one epoch, and trails across layers.

import { element } from "../dom.js";
import { ConfusionView } from "./confusion.js";
import { HitChart } from "./hit_chart.js";
import { ScatterView } from "./scatter.js";
import { TrailView } from "./trails.js";

export class LayerMode {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "mode layer-mode"));
    const multiples = this.root.appendChild(element("section", "card"));
    this.heading = multiples.appendChild(element("h2", "card-title"));
    this.grid = multiples.appendChild(element("div", "multiples"));
    this.hits = new HitChart(multiples);
    this.confusion = new ConfusionView(multiples, display);
    const trailCard = this.root.appendChild(element("section", "card trail-card"));
    this.trails = new TrailView(trailCard, display);
    this.scatters = [];
  }

  /** @param {object} sequence Frames of one epoch across layers. @param {{epoch, methodName}} context */
  show(sequence, { epoch, methodName }) {
    this.sequence = sequence;
    this.heading.textContent = `${methodName} of each layer at epoch ${epoch}`;
    this.grid.replaceChildren();
    this.scatters = sequence.frames.map((frame) => {
      const view = new ScatterView(this.grid, this.display, "small");
      view.show(sequence, { ...frame, title: frame.layer });
      return view;
    });
    this.hits.show(
      sequence.frames.map((frame) => frame.layer),
      sequence.frames.map((frame) => frame.nh),
    );
    this.confusion.show(sequence, sequence.frames[0].predictions, `Confusion matrix of the probe at epoch ${epoch}`);
    this.trails.show(
      sequence,
      `Trails across layers (epoch ${epoch})`,
      sequence.frames.map((frame) => frame.layer),
    );
  }

  redraw() {
    for (const view of this.scatters) view.draw();
    this.trails.draw();
    this.confusion.redraw();
  }
}
