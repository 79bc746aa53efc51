// Under the clicked point's thumbnail: its saliency maps (SaliencyLogger) at the epoch the view
// shows, one small image per method; nothing when none were recorded for the point.

import { element } from "../dom.js";
import { fetchSaliency } from "../api.js";

const METHOD_NAMES = {
  gradient: "gradient", smoothgrad: "smoothgrad", integrated_gradients: "integrated gradients", gradcam: "grad-cam",
};

export class SaliencyPanel {
  /**
   * @param {HTMLElement} parent
   * @param {EventTarget} events The modes say there which epoch they show: "epoch-shown", `detail: {epoch}`.
   */
  constructor(parent, events) {
    this.root = parent.appendChild(element("div", "saliency"));
    this.root.hidden = true;
    this.point = null; // {run, index, classNames} of the point detailed, if its run has saliency maps.
    this.epoch = null; // The epoch shown; null (the last recorded) until a mode says.
    this.key = null; // What is shown or on its way.
    events.addEventListener("epoch-shown", ({ detail }) => {
      if (detail.epoch === this.epoch) return;
      this.epoch = detail.epoch;
      this.load();
    });
  }

  /**
   * Details point `index` of `run`, or nothing with a null `index`.
   * @param {?{methods: string[], epochs: number[]}} saliency The run's `saliency` in ./runs.
   */
  show(run, index, saliency, classNames) {
    const point = saliency && index !== null ? { run, index, classNames } : null;
    if (point?.run !== this.point?.run || point?.index !== this.point?.index) this.root.hidden = true;
    this.point = point;
    this.load();
  }

  async load() {
    const point = this.point;
    const key = point && JSON.stringify([point.run, point.index, this.epoch]);
    if (key === this.key) return;
    this.key = key;
    this.request?.abort();
    if (!point) return;
    const request = (this.request = new AbortController());
    let answer;
    try {
      answer = await fetchSaliency({ run: point.run, index: point.index, epoch: this.epoch }, request.signal);
    } catch (error) {
      if (error.name === "AbortError") return;
      answer = { methods: [], notes: [`Saliency not shown: ${error.message}`] };
    }
    this.render(answer, point.classNames);
  }

  render({ epoch, methods, notes }, classNames) {
    const children = [];
    if (methods.length) {
      children.push(element("div", "saliency-title", `Saliency at epoch ${epoch}`));
      const grid = element("div", "saliency-grid");
      children.push(grid);
      for (const entry of methods) {
        const name = METHOD_NAMES[entry.method] ?? entry.method;
        const figure = grid.appendChild(element("figure", "saliency-item"));
        const image = figure.appendChild(element("img", "saliency-image"));
        const caption = figure.appendChild(element("figcaption", "", entry.epoch === epoch ? name : `${name} (epoch ${entry.epoch})`));
        image.alt = `${name} saliency`;
        image.addEventListener("error", () => {
          figure.classList.add("failed");
          caption.textContent += " (unreadable)";
        }, { once: true });
        image.src = entry.url;
      }
      const classes = [...new Set(methods.map((entry) => classNames[entry.target] ?? String(entry.target)))];
      children.push(element("div", "saliency-note", `Red raises the score of class ${classes.join(", ")}, blue lowers it.`));
    }
    for (const note of notes) children.push(element("div", "saliency-note error", note));
    this.root.replaceChildren(...children);
    this.root.hidden = !children.length;
  }
}
