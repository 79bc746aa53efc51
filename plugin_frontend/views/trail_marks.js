// What the trails view draws over the trails: per class, the path of its trails' mean position
// through the frames, with a marker at each frame, a short label ("e3", "L2") at its first and
// its last, and an arrowhead on each piece pointing the way the sequence goes. (A label at every
// frame was 80 labels for 10 classes across 8 layers: unreadable at 5,000 points.)

import { shade, themeColor } from "../colors.js";

const MARKER_RADIUS_PX = 3.5;
const ARROW_PX = 6;
const LABEL_FONT = "10px sans-serif";
const LABEL_CHAR_PX = 6; // Width of a label character (the SVG export cannot measure text).
const LABEL_HEIGHT_PX = 12;

/**
 * Where position `t` in [0, 1] of a sequence (dark = first) falls on the brightness ramp: the
 * same, except on a dark theme, whose background the darkest shades would vanish into.
 */
export function rampPosition(t) {
  return document.documentElement.classList.contains("dark") ? 0.35 + 0.65 * t : t;
}

/**
 * Mean pixel position of each class's trails in each frame, `means[label][f] = [x, y]` (null
 * for a class without trails).
 * @param {Float32Array[]} frames Pixel positions `[x0, y0, ...]` of every point, one per frame.
 * @param {number[][]} byClass The drawn points of each class.
 */
export function classMeans(frames, byClass) {
  return byClass.map((members) => members.length === 0 ? null : frames.map((xy) => {
    let [x, y] = [0, 0];
    for (const i of members) {
      x += xy[2 * i];
      y += xy[2 * i + 1];
    }
    return [x / members.length, y / members.length];
  }));
}

/**
 * Draws each class's mean path up to `head` (a fractional frame index into `means[label]`).
 * @param {CanvasRenderingContext2D} ctx
 * @param {?number[][][]} means From `classMeans`.
 * @param {object[]} colors Class colours.
 * @param {number} head Where the paths end, in frames from the first.
 * @param {(f: number) => number} brightness Ramp position of frame f.
 * @param {string[]} labels Short label of each frame.
 */
export function paintMeanPaths(ctx, means, colors, head, brightness, labels) {
  const last = Math.floor(head);
  const surface = themeColor("--surface", "#fff"); // Casing, marker outlines and label boxes (light or dark).
  const ink = document.documentElement.classList.contains("dark") ? 1 : 0.35; // Label text: the class colour, darker or brighter.
  const taken = []; // Label boxes drawn so far: a label that would overlap one is left out.
  means.forEach((path, label) => {
    if (!path) return;
    const points = path.slice(0, last + 1);
    if (head > last && path[last + 1]) points.push(lerp(path[last], path[last + 1], head - last));
    for (let s = 0; s + 1 < points.length; s++) {
      const [a, b] = [points[s], points[s + 1]];
      const color = shade(colors[label], brightness(s + 0.5), 1);
      segment(ctx, a, b, surface, 4.5);
      segment(ctx, a, b, color, 2);
      arrowhead(ctx, lerp(a, b, s + 1 === points.length - 1 && head > last ? 1 : 0.6), a, b, color, surface);
    }
    points.slice(0, last + 1).forEach(([x, y], f) => {
      ctx.fillStyle = shade(colors[label], brightness(f), 1);
      ctx.strokeStyle = surface;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(x, y, MARKER_RADIUS_PX, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    });
  });
  ctx.font = LABEL_FONT;
  ctx.textBaseline = "middle";
  ctx.textAlign = "start";
  for (const f of last > 0 ? [last, 0] : [0]) { // The latest frame's labels first: they are left out last.
    means.forEach((path, label) => {
      if (!path) return;
      const [x, y] = path[f];
      const [w, h, r] = [labels[f].length * LABEL_CHAR_PX + 4, LABEL_HEIGHT_PX, MARKER_RADIUS_PX + 1];
      const box = [[x + r, y - h / 2], [x - r - w, y - h / 2], [x - w / 2, y - r - h], [x - w / 2, y + r]]
        .map(([left, top]) => [left, top, w, h]) // Right of the marker, else left, above, below.
        .find((place) => !taken.some((other) => overlaps(place, other)));
      if (!box) return;
      taken.push(box);
      ctx.fillStyle = surface;
      ctx.globalAlpha = 0.8;
      ctx.fillRect(...box);
      ctx.globalAlpha = 1;
      ctx.fillStyle = shade(colors[label], ink, 1);
      ctx.fillText(labels[f], box[0] + 2, box[1] + h / 2);
    });
  }
}

function lerp(a, b, f) {
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])];
}

function segment(ctx, a, b, color, width) {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(...a);
  ctx.lineTo(...b);
  ctx.stroke();
}

/** A filled arrowhead with its tip at `tip`, pointing from `a` to `b` (none for a tiny piece). */
function arrowhead(ctx, tip, a, b, color, outline) {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const length = Math.hypot(dx, dy);
  if (length < 2 * ARROW_PX) return;
  const [ux, uy] = [dx / length, dy / length];
  const [bx, by] = [tip[0] - ARROW_PX * ux, tip[1] - ARROW_PX * uy];
  ctx.fillStyle = color;
  ctx.strokeStyle = outline;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(tip[0], tip[1]);
  ctx.lineTo(bx - 0.6 * ARROW_PX * uy, by + 0.6 * ARROW_PX * ux);
  ctx.lineTo(bx + 0.6 * ARROW_PX * uy, by - 0.6 * ARROW_PX * ux);
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
}

function overlaps([x, y, w, h], [x2, y2, w2, h2]) {
  return x < x2 + w2 && x2 < x + w && y < y2 + h2 && y2 < y + h;
}
