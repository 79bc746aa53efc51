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

  /** @param {string[]} names @param {number[]} values In [0, 1]. */
  show(names, values) {
    this.rows.replaceChildren(
      ...names.map((name, index) => {
        const row = element("div", "hit-row");
        row.append(element("span", "hit-name", name));
        const track = row.appendChild(element("span", "hit-track"));
        track.appendChild(element("span", "hit-bar")).style.width = `${(100 * values[index]).toFixed(1)}%`;
        row.append(element("span", "hit-value", values[index].toFixed(3)));
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
