// Status line: progress while projections compute, "no data yet" and error messages.

import { element } from "../dom.js";

/** "about 12 s", "about 2 min", "about 3 h": a rough duration of `seconds`. */
export function formatEta(seconds) {
  if (seconds < 59.5) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} min`;
  return `about ${Math.round(seconds / 3600)} h`;
}

/**
 * How far a computing answer is: "3 of 8 frames · about 12 s left" (frames when there are
 * several, else a percentage; the time left when the server estimates it).
 * @param {{progress?: number, frames_total?: number, frames_done?: number, eta_seconds?: ?number}} body
 */
export function describeProgress(body) {
  const parts = [body.frames_total > 1 && body.frames_done != null
    ? `${body.frames_done} of ${body.frames_total} frames`
    : `${Math.round(100 * (body.progress ?? 0))}%`];
  if (body.eta_seconds != null) parts.push(`${formatEta(body.eta_seconds)} left`);
  return parts.join(" · ");
}

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
