// Epoch slider with a play button; playing moves continuously between frames.

import { element } from "../dom.js";

const SECONDS_PER_FRAME = 0.9;

export class Player {
  /**
   * @param {HTMLElement} parent
   * @param {(position: number, byUser: boolean) => void} onPosition Called with a fractional frame
   *   index, and whether the user moved there (the slider, the play button).
   */
  constructor(parent, onPosition) {
    this.onPosition = onPosition;
    this.root = parent.appendChild(element("div", "player"));
    this.button = this.root.appendChild(element("button", "play-button", "▶"));
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
      this.moveTo(Number(this.slider.value), true);
    });
    this.slider.addEventListener("change", () => this.moveTo(Math.round(Number(this.slider.value)), true));
  }

  /** @param {string[]} names Name of each frame; @param {number} position Frame to show. */
  setFrames(names, position) {
    this.pause();
    this.names = names;
    this.slider.max = String(Math.max(0, names.length - 1));
    this.slider.disabled = names.length < 2;
    this.setPlayable(true);
    this.moveTo(position);
  }

  /** Enables the play button (when every frame is there to play through). */
  setPlayable(playable) {
    if (!playable) this.pause();
    this.button.disabled = !playable || this.names.length < 2;
    this.button.title = playable ? "Play through the epochs" : "Playing starts when every epoch is computed";
  }

  moveTo(position, byUser = false) {
    this.position = Math.min(Math.max(position, 0), this.names.length - 1);
    this.slider.value = String(this.position);
    this.label.textContent = this.names[Math.round(this.position)];
    this.onPosition(this.position, byUser);
  }

  play() {
    if (this.position >= this.names.length - 1) this.moveTo(0, true);
    this.button.textContent = "❚❚";
    this.root.classList.add("playing");
    let previous = performance.now();
    const step = (now) => {
      const next = this.position + (now - previous) / 1000 / SECONDS_PER_FRAME;
      previous = now;
      this.moveTo(next, true);
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
