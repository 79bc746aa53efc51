// Notes: what the tab shows differently from what was recorded (skipped or damaged summaries,
// values drawn as 0, sampled neurons), so a problem is always said, never a blank tab.

import { element } from "../dom.js";

export class Notes {
  constructor(parent) {
    this.root = parent.appendChild(element("ul", "notes"));
    this.root.hidden = true;
  }

  /** @param {string[]} items One sentence each; none hides the notes. */
  show(items) {
    this.root.replaceChildren(...items.map((text) => element("li", "note", text)));
    this.root.hidden = items.length === 0;
  }
}
