// Inter-layer evolution: one projection per layer at one epoch, and trails across layers.
// While the sequence computes, the layers' plots fill in as they finish.

import { element } from "../dom.js";
import { ConfusionView } from "./confusion.js";
import { FrameGrid } from "./frame_grid.js";
import { HitChart } from "./hit_chart.js";
import { hitGrid } from "../neighborhood_hits.js";
import { NhChart } from "./nh_chart.js";
import { ProjectorLink } from "./projector_link.js";
import { TrailView } from "./trails.js";

export class LayerMode {
  /** @param {HTMLElement} parent @param {object} display Shared display state. */
  constructor(parent, display) {
    this.display = display;
    this.root = parent.appendChild(element("div", "mode layer-mode"));
    const multiples = this.root.appendChild(element("section", "card"));
    this.heading = multiples.appendChild(element("h2", "card-title"));
    this.grid = new FrameGrid(multiples, display, "small", "multiples");
    this.projectorLink = new ProjectorLink(multiples);
    this.hits = new HitChart(multiples);
    this.confusion = new ConfusionView(multiples, display);
    const trailCard = this.root.appendChild(element("section", "card trail-card"));
    this.trails = new TrailView(trailCard, display);
    this.nh = new NhChart(trailCard);
  }

  /**
   * Shows `sequence`, again each time more of its frames are computed.
   * @param {object} sequence Frames of one epoch across layers (null while not computed).
   * @param {{epoch: number, methodName: string, grid: ?object}} context `grid`: the NH chart's
   *   `hitGrid` params (else it shows this epoch only).
   */
  show(sequence, { epoch, methodName, grid }) {
    this.sequence = sequence;
    const names = sequence.keys.map((key, i) => key.layer ?? `frame ${i + 1}`);
    this.heading.textContent = `${methodName} of each layer at epoch ${epoch}`;
    this.display.events?.dispatchEvent(new CustomEvent("epoch-shown", { detail: { epoch } }));
    this.grid.show(sequence, names);
    this.projectorLink.show(grid?.run, sequence.keys.map((key) => key.layer), epoch);
    this.hits.show(names, sequence.frames);
    const predictions = sequence.frames.find(Boolean)?.predictions; // The same at every layer.
    this.confusion.show(sequence, predictions, `Confusion matrix of the probe at epoch ${epoch}`, { run: grid?.run, epoch });
    const marks = names.map((_, i) => `L${i + 1}`);
    this.trails.show(sequence, `Trails across layers (epoch ${epoch})`, names, marks);
    const hits = hitGrid(grid ?? { layers: names, epochs: [epoch] }, () => {
      this.nh.show(hits.table(), hits.params.layers, hits.params.epochs, {
        layer: null, epoch, failed: hits.failed, fill: hits.startable() ? () => hits.start() : null,
      });
    });
    hits.update(sequence);
  }

  redraw() {
    this.grid.draw();
    this.trails.draw();
    this.nh.draw();
    this.confusion.redraw();
  }
}
