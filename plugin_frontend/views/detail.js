// The selection in the sidebar: one clicked point in detail (thumbnail, saliency maps, class,
// prediction at each shown epoch), or how many points a brushed rectangle holds.

import { element } from "../dom.js";
import { thumbnailUrl } from "../api.js";
import { SaliencyPanel } from "./saliency_panel.js";

export class Detail {
  /**
   * @param {HTMLElement} parent @param {() => void} onClear Clears the selection.
   * @param {EventTarget} events Where the modes say which epoch they show (for the saliency maps).
   */
  constructor(parent, onClear, events) {
    this.root = parent.appendChild(element("div", "detail"));
    const header = this.root.appendChild(element("div", "legend-header"));
    header.appendChild(element("span", "section-title", "Selection"));
    header.appendChild(element("button", "link-button detail-clear", "clear")).addEventListener("click", onClear);
    this.image = this.root.appendChild(element("img", "detail-image"));
    this.image.alt = "";
    this.saliency = new SaliencyPanel(this.root, events);
    this.lines = this.root.appendChild(element("div", "detail-lines"));
    this.root.hidden = true;
  }

  /**
   * @param {?number[]} points Selected point indices, or null.
   * @param {{run: string, labels: Int32Array, classNames: string[], hasThumbnails: boolean,
   *   saliency: ?object, frames: {epoch: number, predictions: ?number[]}[]}} context `saliency`: the
   *   run's in ./runs.
   */
  show(points, { run, labels, classNames, hasThumbnails, saliency, frames }) {
    this.root.hidden = !points;
    const single = points?.length === 1;
    this.saliency.show(run, single ? points[0] : null, saliency, classNames);
    if (!points) return;
    const name = (label) => classNames[label] ?? String(label);
    this.image.hidden = !(single && hasThumbnails);
    if (single && hasThumbnails) this.image.src = thumbnailUrl(run, points[0]);
    if (!single) {
      const classes = new Set(points.map((i) => labels[i]));
      this.lines.replaceChildren(element("div", "", `${points.length} points of ${classes.size} class${classes.size > 1 ? "es" : ""}`));
      return;
    }
    const index = points[0];
    const rows = [element("div", "", `Point #${index}, class ${name(labels[index])}`)];
    const seen = new Set();
    for (const { epoch, predictions } of frames) {
      if (!predictions || seen.has(epoch)) continue;
      seen.add(epoch);
      const wrong = predictions[index] !== labels[index];
      rows.push(element("div", `detail-row${wrong ? " wrong" : ""}`, `Epoch ${epoch}: predicted ${name(predictions[index])}`));
    }
    this.lines.replaceChildren(...rows);
  }
}
