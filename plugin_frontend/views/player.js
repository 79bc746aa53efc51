// Epoch slider with a play button; playing moves continuously between frames.

import { element } from "../dom.js";

const SECONDS_PER_FRAME = 0.9;

export class Player {
  /**
   * @param {HTMLElement} parent
   * @param {(position: number) => void} onPosition Called with a fractional frame index.
   */
  constructor(parent, onPosition) {
    this.onPosition = onPosition;
    this.root = parent.appendChild(element("div", "player"));
    this.button = this.root.appendChild(element("button", "play-button", "▶"));
    this.button.title = "Play through the epochs";
    this.slider = this.root.appendChild(element("input", "epoch-slider"));
    this.slider.type = "range";
    this.slider.min = "0";
    this.slider.step = "0.01";
    this.label = this.root.appendChild(element("span", "player-label"));
    this.names = [];
    this.animation = null;
    this.button.addEventListener("click", () => (this.animation ? this.pause() : this.play()));
    this.slider.addEventListener("input", () => {
      this.pause();
      this.moveTo(Number(this.slider.value));
    });
    this.slider.addEventListener("change", () => this.moveTo(Math.round(Number(this.slider.value))));
  }

  /** @param {string[]} names Name of each frame; @param {number} position Frame to show. */
  setFrames(names, position) {
    this.pause();
    this.names = names;
    this.slider.max = String(Math.max(0, names.length - 1));
    this.slider.disabled = this.button.disabled = names.length < 2;
    this.moveTo(position);
  }

  moveTo(position) {
    this.position = Math.min(Math.max(position, 0), this.names.length - 1);
    this.slider.value = String(this.position);
    this.label.textContent = this.names[Math.round(this.position)];
    this.onPosition(this.position);
  }

  play() {
    if (this.position >= this.names.length - 1) this.moveTo(0);
    this.button.textContent = "❚❚";
    this.root.classList.add("playing");
    let previous = performance.now();
    const step = (now) => {
      const next = this.position + (now - previous) / 1000 / SECONDS_PER_FRAME;
      previous = now;
      this.moveTo(next);
      if (next >= this.names.length - 1) this.pause();
      else this.animation = requestAnimationFrame(step);
    };
    this.animation = requestAnimationFrame(step);
  }

  pause() {
    if (this.animation) cancelAnimationFrame(this.animation);
    this.animation = null;
    this.button.textContent = "▶";
    this.root.classList.remove("playing");
  }
}
