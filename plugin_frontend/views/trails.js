// Trails: each point's path through a sequence of aligned frames, drawn per piece with
// hue = class, brightness = position in the sequence (dark = first, bright = last) and a width
// that grows along the way; over them, each class's mean path with a labelled marker per frame
// and arrowheads (./trail_marks.js). Straight trails join the frame positions; bundled ones
// (./evolution?bundle=1) pass through the same positions and bend between them towards the
// trails of their class going the same way. The trails end at the head (the epoch player's
// position), else at the last frame; while a sequence computes they join the longest run of
// consecutive finished frames. Which trails: a fixed sample, the misclassified points, or the
// points selected by brushing.

import { element } from "../dom.js";
import { NEUTRAL, shade } from "../colors.js";
import { finishedSpan, interpolate, sample } from "../data.js";
import { toPixels } from "../plot.js";
import { PlotView } from "./plot_view.js";
import { classMeans, paintMeanPaths, rampPosition } from "./trail_marks.js";

const TRAIL_ALPHA = 0.45;
const SELECTED_ALPHA = 0.8;
const END_RADIUS_PX = 1.3;
const WIDTH_PX = [0.5, 1.8]; // Line width at the first and at the last frame.

export class TrailView extends PlotView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state: colors, visible, trailCount, trailFilter
   *   ("sample" or "misclassified"), selection.
   */
  constructor(parent, display) {
    super(parent, display, "trails");
    this.ramp = this.root.appendChild(element("div", "ramp"));
    this.hint = this.root.appendChild(element("div", "plot-hint"));
    this.sequence = null;
    this.head = null;
  }

  /**
   * @param {object} sequence From `buildSequence` (with `trails` if bundled).
   * @param {string} title
   * @param {string[]} names Name of each frame (layer or epoch).
   * @param {string[]} marks Short label of each frame on the plot ("e3", "L2").
   */
  show(sequence, title, names, marks) {
    this.sequence = sequence;
    this.titleText = title;
    this.names = names;
    this.marks = marks;
    this.span = finishedSpan(sequence.frames);
    this.showKey();
    if (!this.ready()) {
      this.title.textContent = title;
      this.note.textContent = "";
      this.hint.textContent = "The trails appear when two consecutive frames are computed.";
    }
    this.draw();
  }

  /** Ends the trails at frame `position` (fractional: part of the next piece), or at the last frame if null. */
  setHead(position) {
    this.head = position;
    this.draw();
  }

  /** The brightness key: each frame's shade, mark and name (dark = first). */
  showKey() {
    const [start, end] = this.span;
    this.keyRamp = rampPosition(0); // Redrawn when the theme changes it.
    this.ramp.hidden = !this.ready();
    this.ramp.replaceChildren(element("span", "ramp-label", "dark → bright:"), ...this.names.slice(start, end).map((name, f) => {
      const item = element("span", "ramp-label");
      const swatch = item.appendChild(element("span"));
      Object.assign(swatch.style, {
        display: "inline-block", width: "10px", height: "10px", borderRadius: "50%", marginRight: "3px",
        verticalAlign: "-1px", background: shade(NEUTRAL, this.brightness(f)),
      });
      const mark = this.marks[start + f];
      item.append(mark === name ? mark : `${mark} ${name}`);
      return item;
    }));
    this.ramp.style.flexWrap = "wrap";
  }

  /** Whether two consecutive frames are finished. */
  ready() {
    return this.sequence !== null && this.span[1] - this.span[0] >= 2;
  }

  /** Ramp position of frame `f` (counted from the first finished frame, may be fractional). */
  brightness(f) {
    return rampPosition(f / Math.max(1, this.span[1] - this.span[0] - 1));
  }

  /** The frame (from the first finished one, fractional) where the trails end. */
  headFrame() {
    const [start, end] = this.span;
    return this.head === null ? end - 1 - start : Math.min(end - 1, Math.max(start, this.head)) - start;
  }

  /** Each trail's vertices and how many pieces join two frames: bundled, or the frames' points. */
  vertices() {
    const { frames, trails } = this.sequence;
    const shown = frames.slice(...this.span).map((frame) => frame.xy);
    const samples = trails ? (trails.vertices.length - 1) / (shown.length - 1) : 1;
    return Number.isInteger(samples) && samples >= 1 && trails ? { xy: trails.vertices, samples } : { xy: shown, samples: 1 };
  }

  /** The points whose trails are drawn, and the words saying which they are. */
  chosen() {
    const { labels, frames } = this.sequence;
    const { visible, trailCount, trailFilter, selection } = this.display;
    if (selection) {
      const picked = this.sequence.order.filter((i) => selection[i] && visible[labels[i]]);
      const drawn = Array.from(picked.slice(0, trailCount));
      return { points: drawn, what: `${drawn.length} of the ${picked.length} points selected` };
    }
    if (trailFilter === "misclassified") {
      const predictions = frames[this.span[1] - 1].predictions;
      if (predictions) {
        const wrong = this.sequence.order.filter((i) => visible[labels[i]] && predictions[i] !== labels[i]);
        const drawn = Array.from(wrong.slice(0, trailCount));
        return { points: drawn, what: `${drawn.length} of ${labels.length} points, misclassified (of ${wrong.length})` };
      }
    }
    const drawn = sample(this.sequence, visible, trailCount);
    return { points: drawn, what: `${drawn.length} of ${labels.length} points, sampled` };
  }

  paint(ctx, width, height) {
    const start = performance.now();
    if (this.keyRamp !== rampPosition(0)) this.showKey();
    const { labels, extent, trails, frames } = this.sequence;
    const { colors } = this.display;
    const { points, what } = this.chosen();
    const { xy, samples } = this.vertices();
    const vertices = xy.map((v) => toPixels(v, extent, width, height));
    const byClass = colors.map(() => []);
    for (const i of points) byClass[labels[i]].push(i);
    const head = this.headFrame();
    const headVertex = head * samples;
    const full = Math.floor(headVertex);
    const alpha = this.display.selection ? SELECTED_ALPHA : TRAIL_ALPHA;
    const total = vertices.length - 1;
    const piece = (s, f) => byClass.forEach((members, label) => {
      if (!members.length) return;
      const [a, b] = [vertices[s], vertices[s + 1]];
      const t = (s + 0.5 * f) / total;
      ctx.strokeStyle = shade(colors[label], rampPosition(t), alpha);
      ctx.lineWidth = WIDTH_PX[0] + t * (WIDTH_PX[1] - WIDTH_PX[0]);
      ctx.beginPath();
      for (const i of members) {
        ctx.moveTo(a[2 * i], a[2 * i + 1]);
        ctx.lineTo(a[2 * i] + f * (b[2 * i] - a[2 * i]), a[2 * i + 1] + f * (b[2 * i + 1] - a[2 * i + 1]));
      }
      ctx.stroke();
    });
    for (let s = 0; s < full; s++) piece(s, 1);
    const rest = headVertex - full;
    if (rest > 0) piece(full, rest);
    const ends = rest > 0 ? interpolate(vertices[full], vertices[full + 1], rest, new Float32Array(labels.length * 2)) : vertices[full];
    byClass.forEach((members, label) => {
      ctx.fillStyle = shade(colors[label], rampPosition(headVertex / total), 0.9);
      for (const i of members) {
        ctx.fillRect(ends[2 * i] - END_RADIUS_PX, ends[2 * i + 1] - END_RADIUS_PX, 2 * END_RADIUS_PX, 2 * END_RADIUS_PX);
      }
    });
    const framePixels = frames.slice(...this.span).map((frame) => toPixels(frame.xy, extent, width, height));
    const marks = this.marks.slice(...this.span);
    paintMeanPaths(ctx, classMeans(framePixels, byClass), colors, head, (f) => this.brightness(f), marks);
    this.canvas.dataset.renderMs = (performance.now() - start).toFixed(1);
    const [first, end] = this.span;
    const upTo = this.head !== null && first + head < end - 1 ? `, up to ${this.names[first + Math.floor(head)]}` : "";
    this.title.textContent = `${this.titleText}${trails ? ", bundled per class" : ""}${upTo}`;
    this.note.textContent = what;
    const span = `So far from ${this.names[first]} to ${this.names[end - 1]}: the trails grow as frames are computed. `;
    this.hint.textContent = (this.sequence.complete ? "" : span) + (this.display.selection
      ? "Trails of the selected points. Click empty space in a projection to clear the selection."
      : "Drag a rectangle in a projection to see the trails of its points. Lines: each class's mean path.");
  }
}
