// Tooltip of a hovered point (thumbnail, true class, predicted class) or neuron (scores).

import { element } from "../dom.js";
import { thumbnailUrl } from "../api.js";

const OFFSET_PX = 14;

export class Tooltip {
  constructor(parent) {
    this.root = parent.appendChild(element("div", "tooltip"));
    this.image = this.root.appendChild(element("img", "tooltip-image"));
    this.image.alt = "";
    this.lines = this.root.appendChild(element("div", "tooltip-lines"));
    this.context = { run: null, classNames: [], hasThumbnails: false };
    this.hide();
  }

  /** @param {{run: string, classNames: string[], hasThumbnails: boolean}} context */
  setContext(context) {
    this.context = context;
  }

  /** @param {{index: number, label: number, prediction: ?number}} point */
  show(point, clientX, clientY) {
    const { run, classNames, hasThumbnails } = this.context;
    const name = (label) => classNames[label] ?? String(label);
    this.image.hidden = !hasThumbnails;
    if (hasThumbnails) {
      const src = thumbnailUrl(run, point.index);
      if (this.image.getAttribute("src") !== src) this.image.src = src;
    }
    const rows = [["Point", `#${point.index}`], ["Class", name(point.label)]];
    if (point.prediction !== null) {
      rows.push(["Predicted", name(point.prediction), point.prediction !== point.label ? "wrong" : ""]);
    }
    this.showRows(rows, clientX, clientY);
  }

  /** Shows `[key, value, className?]` rows (and the image, if `show` set it) at the pointer. */
  showRows(rows, clientX, clientY) {
    this.lines.replaceChildren(
      ...rows.map(([key, value, className]) => {
        const row = element("div", "tooltip-row");
        row.append(element("span", "tooltip-key", key), element("span", "tooltip-value", value));
        if (className) row.classList.add(className);
        return row;
      }),
    );
    this.root.hidden = false;
    const { offsetWidth: w, offsetHeight: h } = this.root;
    const x = clientX + OFFSET_PX + w > window.innerWidth ? clientX - OFFSET_PX - w : clientX + OFFSET_PX;
    const y = clientY + OFFSET_PX + h > window.innerHeight ? clientY - OFFSET_PX - h : clientY + OFFSET_PX;
    this.root.style.transform = `translate(${Math.max(0, x)}px, ${Math.max(0, y)}px)`;
  }

  /** Rows without an image (e.g. a neuron's scores). */
  showText(rows, clientX, clientY) {
    this.image.hidden = true;
    this.showRows(rows, clientX, clientY);
  }

  hide() {
    this.root.hidden = true;
  }
}
