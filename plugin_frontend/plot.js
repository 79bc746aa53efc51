// Canvas helpers shared by the views: sizing for the screen's pixel ratio, data-to-pixel mapping.

const PADDING_PX = 8;

/** Sizes the canvas backing store to its CSS box; returns the context in CSS pixels. */
export function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

/**
 * Pixel positions `[x0, y0, ...]` of data points in [-extent, extent]², y pointing up; `zoom`
 * (`{x, y, k}`: the data point at the centre, magnification) shows a part of that square.
 */
export function toPixels(xy, extent, width, height, out = new Float32Array(xy.length), zoom = NO_ZOOM) {
  const scale = (zoom.k * (Math.min(width, height) / 2 - PADDING_PX)) / extent;
  const cx = width / 2 - zoom.x * scale;
  const cy = height / 2 + zoom.y * scale;
  for (let i = 0; i < xy.length; i += 2) {
    out[i] = cx + xy[i] * scale;
    out[i + 1] = cy - xy[i + 1] * scale;
  }
  return out;
}

export const NO_ZOOM = Object.freeze({ x: 0, y: 0, k: 1 });
const MAX_ZOOM = 64;

/** `zoom` magnified by `factor` (1 at least, 64 at most) keeping the data point under pixel (px, py) there. */
export function zoomAround(zoom, factor, px, py, extent, width, height) {
  const k = Math.min(MAX_ZOOM, Math.max(1, zoom.k * factor));
  if (k === 1) return NO_ZOOM;
  const [before, after] = [zoom.k, k].map((z) => (z * (Math.min(width, height) / 2 - PADDING_PX)) / extent);
  const [dx, dy] = [px - width / 2, height / 2 - py];
  return { x: zoom.x + dx / before - dx / after, y: zoom.y + dy / before - dy / after, k };
}

/** `zoom` moved so that the picture follows a drag of (dx, dy) pixels. */
export function panned(zoom, dx, dy, extent, width, height) {
  const scale = (zoom.k * (Math.min(width, height) / 2 - PADDING_PX)) / extent;
  return { x: zoom.x - dx / scale, y: zoom.y + dy / scale, k: zoom.k };
}

/** Index of the visible point nearest to (x, y) within `maxDistance` pixels, or -1. */
export function nearestPoint(pixels, labels, visible, x, y, maxDistance) {
  let best = -1;
  let bestDistance = maxDistance * maxDistance;
  for (let i = 0; i < labels.length; i++) {
    if (!visible[labels[i]]) continue;
    const dx = pixels[2 * i] - x;
    const dy = pixels[2 * i + 1] - y;
    const distance = dx * dx + dy * dy;
    if (distance < bestDistance) {
      bestDistance = distance;
      best = i;
    }
  }
  return best;
}

/** Point radius in CSS pixels: smaller for many points and for small plots. */
export function pointRadius(count, width) {
  const base = count > 3000 ? 1.1 : count > 1000 ? 1.5 : 2.2;
  return base * Math.min(1.4, Math.max(0.75, Math.sqrt(width / 400)));
}

/**
 * A small filled disc to stamp with `drawImage` (much faster than one `arc` per point), with an
 * optional outline (`stroke`, `lineWidth` CSS px); SVG exports draw it as a circle (`svgCircle`).
 */
export function discSprite(fill, radius, stroke = null, lineWidth = 2) {
  const ratio = window.devicePixelRatio || 1;
  const outer = radius + (stroke ? lineWidth / 2 : 0);
  const size = Math.ceil(2 * outer * ratio) + 2;
  const image = document.createElement("canvas");
  image.width = image.height = size;
  const ctx = image.getContext("2d");
  ctx.fillStyle = fill;
  ctx.beginPath();
  ctx.arc(size / 2, size / 2, radius * ratio, 0, 2 * Math.PI);
  ctx.fill();
  if (stroke) {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = lineWidth * ratio;
    ctx.stroke();
  }
  image.svgCircle = { fill, radius, stroke, lineWidth };
  return { image, size: size / ratio };
}
