// One projection on a canvas: points (or thumbnails) coloured by class, prediction, correctness
// or a neuron, neighborhood hit, hover tooltip linked to every plot, zoom and pan, and brushing.
// Dragging brushes a rectangle (selects its points everywhere) or pans, as the sidebar's "Drag"
// switch says (Shift does the other); wheel zooms, double-click shows the whole plot again;
// clicking a point selects it alone, clicking empty space clears the selection.

import { themeColor } from "../colors.js";
import { NO_ZOOM, nearestPoint, panned, pointRadius, toPixels, zoomAround } from "../plot.js";
import { describeLayer } from "../data.js";
import { element } from "../dom.js";
import { isDark } from "../theme.js";
import { openEnlarged } from "./enlarge.js";
import { colorIndex, FEW_SELECTED, palette, PointSprites, selectedRadius } from "./point_colors.js";
import { PlotView } from "./plot_view.js";
import { paintThumbnails } from "./thumbnails.js";

const HOVER_DISTANCE_PX = 8;
const DRAG_THRESHOLD_PX = 4;
const ZOOM_STEP = 1.25;
const NH_HELP = "Neighborhood hit: the fraction of each point's k nearest 2-D neighbours that share its class, averaged.";
const PENDING_HELP = "This projection is still being computed; it appears here when it is done.";
const PARTIAL_HELP = "A provisional layout: t-SNE is still optimising this projection.";
const STAND_IN_HELP = "A provisional layout: this layer at an earlier epoch, from which t-SNE computes this "
  + "frame epoch by epoch so that trails stay coherent.";

export class ScatterView extends PlotView {
  /**
   * @param {HTMLElement} parent
   * @param {object} display Shared display state: colors, visible, selection, select(), tooltip,
   *   pointStyle ("points" or "thumbnails"), atlas (thumbnail atlas or null), colorBy,
   *   neuronValues(epoch), dragMode ("select" or "pan"), events (an EventTarget: "hover"),
   *   layerInfo ({name: the runs answer's layer_info entry}: the subtitle).
   * @param {string} className "small", "tiny", "large" or "enlarged".
   */
  constructor(parent, display, className) {
    super(parent, display, `scatter ${className}`);
    this.note.classList.add("plot-hit");
    this.subtitle = element("div", "plot-subtitle");
    this.root.querySelector(".plot-header").after(this.subtitle);
    const stage = element("div", "plot-stage");
    this.canvas.replaceWith(stage);
    const overlay = element("div", "plot-overlay"); // Cheap to move: no repaint of the points.
    this.marker = overlay.appendChild(element("div", "hover-marker"));
    this.brushBox = overlay.appendChild(element("div", "brush-box"));
    stage.append(this.canvas, overlay);
    const tools = this.root.querySelector(".plot-tools");
    this.resetButton = tools.insertBefore(element("button", "link-button zoom-reset", "reset zoom"), tools.firstChild);
    this.resetButton.title = "Show the whole projection again (or double-click the plot)";
    this.resetButton.addEventListener("click", () => this.setZoom(NO_ZOOM));
    if (className !== "enlarged") {
      const enlarge = tools.appendChild(element("button", "link-button enlarge-button", "⤢"));
      enlarge.title = "Show this plot large (Esc closes it)";
      enlarge.addEventListener("click", () => openEnlarged(this));
    }
    this.pixels = null;
    this.frame = null;
    this.drag = null;
    this.hovered = -1;
    this.zoom = NO_ZOOM;
    this.setZoom(NO_ZOOM);
    this.spriteCache = new PointSprites();
    this.canvas.addEventListener("pointerdown", (event) => this.startDrag(event));
    this.canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    this.canvas.addEventListener("pointerup", (event) => this.endDrag(event));
    this.canvas.addEventListener("mouseleave", () => this.leave());
    this.canvas.addEventListener("dblclick", () => this.setZoom(NO_ZOOM));
    this.canvas.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    this.onHover = (event) => this.linkHover(event.detail);
    display.events?.addEventListener("hover", this.onHover);
  }

  /**
   * Shows `frame`, or while its `xy` is missing an empty placeholder (state "pending"); a frame
   * still being optimised (`partial`) is drawn in its own `extent` (state "partial").
   * @param {object} sequence From `buildSequence`.
   * @param {{title: string, layer?: string, xy: ?Float32Array, nh: ?number, predictions: ?number[],
   *   epoch?: number, partial?: boolean, extent?: number}} frame
   */
  show(sequence, frame) {
    this.sequence = sequence;
    this.frame = frame;
    const state = !frame.xy ? "pending" : frame.partial ? "partial" : "ready";
    this.root.dataset.state = state;
    this.title.textContent = frame.title;
    this.subtitle.textContent = describeLayer(this.display.layerInfo?.[frame.layer]);
    this.subtitle.title = this.subtitle.textContent;
    this.title.title = [frame.title, this.subtitle.textContent].filter(Boolean).join(" · ");
    const standIn = state === "partial" && frame.standInEpoch != null;
    const partialNote = standIn ? `epoch ${frame.standInEpoch}'s layout, refining…` : "refining…";
    this.note.textContent = { pending: "computing…", partial: partialNote }[state] ?? `NH ${frame.nh.toFixed(3)}`;
    this.note.title = { pending: PENDING_HELP, partial: standIn ? STAND_IN_HELP : PARTIAL_HELP }[state] ?? NH_HELP;
    if (state === "pending") this.pixels = null;
    this.draw();
    this.enlarged?.show(sequence, frame);
  }

  ready() {
    return Boolean(this.frame?.xy);
  }

  draw() {
    super.draw();
    this.drawOverlay();
    this.enlarged?.draw();
  }

  paint(ctx, width, height) {
    const { labels, order } = this.sequence;
    const { visible, selection, atlas, pointStyle } = this.display;
    this.geometry = { extent: this.frame.extent ?? this.sequence.extent, width, height };
    this.pixels = toPixels(this.frame.xy, this.geometry.extent, width, height, undefined, this.zoom);
    const thumbnails = pointStyle === "thumbnails" && atlas;
    const colorBy = thumbnails ? "class" : this.display.colorBy ?? "class";
    const neuron = colorBy === "neuron" ? this.display.neuronValues?.(this.frame.epoch) : null;
    const codes = colorIndex(colorBy, labels, this.frame.predictions, neuron);
    const radius = pointRadius(labels.length, width);
    let selected = 0;
    if (selection) for (let i = 0; i < labels.length; i++) selected += selection[i];
    const sprites = this.spriteCache.sprites(
      palette(colorBy, this.display.colors, isDark()), radius, selectedRadius(radius, selected),
      selected <= FEW_SELECTED ? themeColor("--text", "#212121") : null);
    const stamp = (i, sprite) => ctx.drawImage(sprite.image, this.pixels[2 * i] - sprite.size / 2, this.pixels[2 * i + 1] - sprite.size / 2, sprite.size, sprite.size);
    const wrongLast = colorBy === "correct" ? [0, 1] : [null];
    for (const pass of wrongLast) { // Correct or wrong: the (fewer) wrong points drawn over the others.
      for (const i of order) {
        if (!visible[labels[i]] || (pass !== null && codes[i] !== pass)) continue;
        const sprite = codes[i] < 0 ? sprites.neutral : sprites.colors[codes[i]] ?? sprites.neutral;
        stamp(i, (selection && !selection[i]) || thumbnails ? sprites.faded : sprite);
      }
    }
    if (thumbnails) paintThumbnails(ctx, this.pixels, this.sequence, this.display, atlas, width);
    else if (selection) { // On top, larger (and a few outlined).
      for (const i of order) {
        if (selection[i] && visible[labels[i]]) stamp(i, sprites.selected[codes[i]] ?? sprites.selectedNeutral);
      }
    }
  }

  /** The hover marker (of this plot or another one) and the brush, over the plot. */
  drawOverlay() {
    const i = this.hovered;
    const [x, y] = this.pixels && i >= 0 && i < this.sequence.labels.length &&
      this.display.visible[this.sequence.labels[i]] ? [this.pixels[2 * i], this.pixels[2 * i + 1]] : [NaN, NaN];
    const inside = x >= 0 && y >= 0 && x <= this.canvas.clientWidth && y <= this.canvas.clientHeight;
    this.marker.hidden = !inside;
    if (inside) this.marker.style.transform = `translate(${x}px, ${y}px)`;
    const drag = this.drag;
    this.brushBox.hidden = !(drag?.mode === "brush" && drag.moved);
    if (!this.brushBox.hidden) {
      Object.assign(this.brushBox.style, {
        left: `${Math.min(drag.x0, drag.x1)}px`, top: `${Math.min(drag.y0, drag.y1)}px`,
        width: `${Math.abs(drag.x1 - drag.x0)}px`, height: `${Math.abs(drag.y1 - drag.y0)}px`,
      });
    }
  }

  setZoom(zoom) {
    this.zoom = zoom;
    this.resetButton.hidden = zoom.k === 1;
    this.root.dataset.zoom = zoom.k.toFixed(3);
    this.draw();
  }

  position(event) {
    const box = this.canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  }

  wheel(event) {
    if (!this.pixels) return;
    event.preventDefault();
    const { extent, width, height } = this.geometry;
    const factor = event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP;
    this.setZoom(zoomAround(this.zoom, factor, ...this.position(event), extent, width, height));
  }

  /** A drag pans or brushes: the sidebar's choice, the other one with Shift. */
  startDrag(event) {
    if (!this.pixels || event.button !== 0) return;
    const [x, y] = this.position(event);
    const pan = (this.display.dragMode === "pan") !== event.shiftKey;
    this.drag = { mode: pan ? "pan" : "brush", x0: x, y0: y, x1: x, y1: y, moved: false, zoom: this.zoom };
    this.canvas.setPointerCapture(event.pointerId);
  }

  pointerMove(event) {
    const drag = this.drag;
    if (!drag) {
      this.hover(event);
      return;
    }
    [drag.x1, drag.y1] = this.position(event);
    if (Math.hypot(drag.x1 - drag.x0, drag.y1 - drag.y0) > DRAG_THRESHOLD_PX) drag.moved = true;
    if (!drag.moved) return;
    this.setHover(-1);
    if (drag.mode === "pan") {
      const { extent, width, height } = this.geometry;
      this.setZoom(panned(drag.zoom, drag.x1 - drag.x0, drag.y1 - drag.y0, extent, width, height));
    } else this.drawOverlay();
  }

  /** Selects the brushed points, or on a click the point under the pointer (or none). */
  endDrag(event) {
    const drag = this.drag;
    if (!drag) return;
    this.drag = null;
    if (!drag.moved) {
      const index = this.pointAt(event);
      this.display.select(index < 0 ? null : [index]);
      return;
    }
    if (drag.mode === "pan") return;
    this.drawOverlay();
    const { labels } = this.sequence;
    const visible = this.display.visible;
    const [left, right] = [Math.min(drag.x0, drag.x1), Math.max(drag.x0, drag.x1)];
    const [top, bottom] = [Math.min(drag.y0, drag.y1), Math.max(drag.y0, drag.y1)];
    const chosen = [];
    for (let i = 0; i < labels.length; i++) {
      const [x, y] = [this.pixels[2 * i], this.pixels[2 * i + 1]];
      if (visible[labels[i]] && x >= left && x <= right && y >= top && y <= bottom) chosen.push(i);
    }
    this.display.select(chosen.length ? chosen : null);
  }

  pointAt(event) {
    const [x, y] = this.position(event);
    return nearestPoint(this.pixels, this.sequence.labels, this.display.visible, x, y, HOVER_DISTANCE_PX);
  }

  hover(event) {
    if (!this.pixels) return;
    const index = this.pointAt(event);
    this.setHover(index);
    if (index < 0) {
      this.display.tooltip.hide();
      return;
    }
    const predictions = this.frame.predictions;
    this.display.tooltip.show(
      { index, label: this.sequence.labels[index], prediction: predictions ? predictions[index] : null },
      event.clientX, event.clientY,
    );
  }

  leave() {
    this.display.tooltip.hide();
    this.setHover(-1);
  }

  /** Marks point `index` (-1: none) in every plot of the same points. */
  setHover(index) {
    if (index === this.hovered) return;
    const detail = { index, count: this.sequence.labels.length };
    if (this.display.events) this.display.events.dispatchEvent(new CustomEvent("hover", { detail }));
    else this.linkHover(detail);
  }

  linkHover({ index, count }) {
    if (!this.canvas.isConnected) {
      this.display.events?.removeEventListener("hover", this.onHover); // A plot no longer shown.
      return;
    }
    const shown = this.sequence && this.sequence.labels.length === count ? index : -1;
    if (shown === this.hovered) return;
    this.hovered = shown;
    this.drawOverlay();
  }
}
