// Neighborhood hit of every frame as horizontal bars (one row per layer or epoch).

import { element } from "../dom.js";

export class HitChart {
  /**
   * @param {HTMLElement} parent
   * @param {?(index: number) => void} onSelect Called when a row is clicked, if given.
   */
  constructor(parent, onSelect = null) {
    this.root = parent.appendChild(element("div", "hit-chart"));
    this.root.appendChild(element("div", "section-title", "Neighborhood hit (k = 6)"));
    this.rows = this.root.appendChild(element("div", "hit-rows"));
    this.onSelect = onSelect;
  }

  /**
   * @param {string[]} names
   * @param {?{nh: ?number, partial: boolean}[]} frames Null for a frame not computed yet; NH in [0, 1].
   */
  show(names, frames) {
    this.rows.replaceChildren(
      ...names.map((name, index) => {
        const nh = frames[index]?.partial ? null : frames[index]?.nh ?? null;
        const row = element("div", `hit-row${nh === null ? " pending" : ""}`);
        row.append(element("span", "hit-name", name));
        const track = row.appendChild(element("span", "hit-track"));
        track.appendChild(element("span", "hit-bar")).style.width = `${(100 * (nh ?? 0)).toFixed(1)}%`;
        row.append(element("span", "hit-value", nh === null ? "…" : nh.toFixed(3)));
        if (this.onSelect) {
          row.classList.add("selectable");
          row.addEventListener("click", () => this.onSelect(index));
        }
        return row;
      }),
    );
  }

  /** Highlights row `index`. */
  select(index) {
    [...this.rows.children].forEach((row, i) => row.classList.toggle("current", i === index));
  }
}
