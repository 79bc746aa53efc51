// Class legend: click a class to hide or show it everywhere.

import { element } from "../dom.js";

export class Legend {
  /** @param {HTMLElement} parent @param {(visible: Uint8Array) => void} onChange */
  constructor(parent, onChange) {
    this.onChange = onChange;
    this.root = parent.appendChild(element("div", "legend"));
    const header = this.root.appendChild(element("div", "legend-header"));
    header.appendChild(element("span", "section-title", "Classes"));
    const all = header.appendChild(element("button", "link-button", "all"));
    const none = header.appendChild(element("button", "link-button", "none"));
    all.addEventListener("click", () => this.setAll(1));
    none.addEventListener("click", () => this.setAll(0));
    this.list = this.root.appendChild(element("div", "legend-list"));
    this.visible = new Uint8Array(0);
  }

  /** @param {string[]} names @param {object[]} colors @param {number[]} counts */
  update(names, colors, counts) {
    if (this.visible.length !== colors.length) this.visible = new Uint8Array(colors.length).fill(1);
    this.list.replaceChildren(
      ...colors.map((color, label) => {
        const item = element("button", "legend-item");
        item.dataset.label = String(label);
        const swatch = item.appendChild(element("span", "swatch"));
        swatch.style.background = color.hex;
        const name = item.appendChild(element("span", "legend-name", names[label] ?? String(label)));
        name.title = name.textContent;
        item.appendChild(element("span", "legend-count", String(counts[label] ?? 0)));
        item.addEventListener("click", () => {
          this.visible[label] ^= 1;
          this.refresh();
        });
        return item;
      }),
    );
    this.refresh(false);
  }

  setAll(value) {
    this.visible.fill(value);
    this.refresh();
  }

  refresh(notify = true) {
    for (const item of this.list.children) {
      item.classList.toggle("hidden", !this.visible[Number(item.dataset.label)]);
    }
    if (notify) this.onChange(this.visible);
  }
}
