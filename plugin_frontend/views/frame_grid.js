// Small multiples: one projection per frame of a sequence, kept between updates so that a
// sequence arriving frame by frame fills in without redrawing the page (no flicker).

import { element } from "../dom.js";
import { ScatterView } from "./scatter.js";

export class FrameGrid {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state.
   * @param {string} size Class of the plots: "small" or "tiny".
   * @param {string} className Class of the grid.
   */
  constructor(parent, display, size, className) {
    this.display = display;
    this.size = size;
    this.root = parent.appendChild(element("div", className));
    this.views = [];
  }

  /**
   * Shows frame i of `sequence` titled `names[i]`; an unfinished frame as an empty placeholder.
   * @param {object} sequence From `buildSequence`. @param {string[]} names
   */
  show(sequence, names) {
    while (this.views.length > names.length) this.views.pop().root.remove();
    while (this.views.length < names.length) this.views.push(new ScatterView(this.root, this.display, this.size));
    this.views.forEach((view, i) => view.show(sequence, { ...sequence.frames[i], title: names[i] }));
  }

  draw() {
    for (const view of this.views) view.draw();
  }
}
