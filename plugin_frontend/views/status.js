// Status line: progress while projections compute, "no data yet" and error messages.

import { element } from "../dom.js";

export class Status {
  constructor(parent) {
    this.root = parent.appendChild(element("div", "status"));
    this.text = this.root.appendChild(element("div", "status-text"));
    this.track = this.root.appendChild(element("div", "progress-track"));
    this.bar = this.track.appendChild(element("div", "progress-bar"));
    this.clear();
  }

  /** @param {number} fraction In [0, 1]. */
  progress(fraction, text) {
    this.set("progress", text);
    this.bar.style.width = `${Math.round(100 * Math.min(Math.max(fraction, 0), 1))}%`;
  }

  /** @param {"info" | "error"} kind */
  message(text, kind = "info") {
    this.set(kind, text);
  }

  clear() {
    this.set("hidden", "");
  }

  set(kind, text) {
    this.root.className = `status ${kind}`;
    this.text.textContent = text;
  }
}
