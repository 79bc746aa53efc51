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

/** Pixel positions `[x0, y0, ...]` of data points in [-extent, extent]², y pointing up. */
export function toPixels(xy, extent, width, height, out = new Float32Array(xy.length)) {
  const scale = (Math.min(width, height) / 2 - PADDING_PX) / extent;
  const cx = width / 2;
  const cy = height / 2;
  for (let i = 0; i < xy.length; i += 2) {
    out[i] = cx + xy[i] * scale;
    out[i + 1] = cy - xy[i + 1] * scale;
  }
  return out;
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
 * A small filled disc to stamp with `drawImage` (much faster than one `arc` per point); SVG
 * exports draw it as a circle (`svgCircle`).
 */
export function discSprite(fill, radius) {
  const ratio = window.devicePixelRatio || 1;
  const size = Math.ceil(2 * radius * ratio) + 2;
  const image = document.createElement("canvas");
  image.width = image.height = size;
  const ctx = image.getContext("2d");
  ctx.fillStyle = fill;
  ctx.beginPath();
  ctx.arc(size / 2, size / 2, radius * ratio, 0, 2 * Math.PI);
  ctx.fill();
  image.svgCircle = { fill, radius };
  return { image, size: size / ratio };
}
