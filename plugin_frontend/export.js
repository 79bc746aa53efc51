// Export of a plot as PNG or SVG: the same `paint(ctx, width, height)` that draws it on screen
// draws it into a 2x canvas or into `SvgContext`, which records the subset of the Canvas 2D API
// the views use as SVG elements. A title on top, the plot's colour ramp (e.g. the trails'
// brightness from first layer to output) and the visible classes below are added.

const TITLE_PX = 28;
const KEY_ROW_PX = 18;
const KEY_SWATCH_PX = 10;
const KEY_BAR_PX = 160;
const KEY_BAR_STEPS = 32;
const LEGEND_ROW_PX = 18;
const LEGEND_ITEM_PX = 110;
const PNG_SCALE = 2;
const FONT = "12px Roboto, Arial, sans-serif";

function escapeXml(text) {
  return String(text).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `fill="…"` or `stroke="…"` attributes of a CSS colour, with rgba alpha as an opacity. */
function paintAttributes(kind, color, alpha) {
  const match = /^rgba\(([^,]+),([^,]+),([^,]+),([^)]+)\)$/.exec(String(color).replace(/\s/g, ""));
  const opacity = (match ? Number(match[4]) : 1) * alpha;
  const value = match ? `rgb(${match[1]},${match[2]},${match[3]})` : color;
  return `${kind}="${escapeXml(value)}"${opacity < 1 ? ` ${kind}-opacity="${+opacity.toFixed(3)}"` : ""}`;
}

const n = (value) => +value.toFixed(2);

/** Records Canvas 2D drawing calls as SVG. */
export class SvgContext {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.parts = [];
    this.groups = [0];
    this.path = "";
    this.fillStyle = "#000";
    this.strokeStyle = "#000";
    this.lineWidth = 1;
    this.globalAlpha = 1;
    this.font = FONT;
    this.textBaseline = "alphabetic";
    this.textAlign = "start";
  }

  setTransform() {}
  clearRect() {}
  /** save/translate/restore: each translate opens a group that the matching restore closes. */
  save() {
    this.groups.push(0);
  }
  translate(x, y) {
    this.parts.push(`<g transform="translate(${n(x)} ${n(y)})">`);
    this.groups[this.groups.length - 1]++;
  }
  restore() {
    this.parts.push("</g>".repeat(this.groups.pop() ?? 0));
  }
  beginPath() {
    this.path = "";
  }
  moveTo(x, y) {
    this.path += `M${n(x)} ${n(y)}`;
  }
  lineTo(x, y) {
    this.path += `L${n(x)} ${n(y)}`;
  }
  closePath() {
    this.path += "Z";
  }
  /** Full circles only (all the views draw). */
  arc(x, y, r) {
    this.path += `M${n(x + r)} ${n(y)}A${n(r)} ${n(r)} 0 1 0 ${n(x - r)} ${n(y)}A${n(r)} ${n(r)} 0 1 0 ${n(x + r)} ${n(y)}Z`;
  }
  rect(x, y, w, h) {
    this.path += `M${n(x)} ${n(y)}h${n(w)}v${n(h)}h${n(-w)}Z`;
  }
  stroke() {
    if (this.path) {
      this.parts.push(`<path d="${this.path}" fill="none" ${paintAttributes("stroke", this.strokeStyle, this.globalAlpha)} stroke-width="${this.lineWidth}"/>`);
    }
  }
  fill() {
    if (this.path) this.parts.push(`<path d="${this.path}" ${paintAttributes("fill", this.fillStyle, this.globalAlpha)}/>`);
  }
  fillRect(x, y, w, h) {
    this.parts.push(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" ${paintAttributes("fill", this.fillStyle, this.globalAlpha)}/>`);
  }
  strokeRect(x, y, w, h) {
    this.parts.push(
      `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="none" ${paintAttributes("stroke", this.strokeStyle, this.globalAlpha)} stroke-width="${this.lineWidth}"/>`,
    );
  }
  fillText(text, x, y) {
    const anchor = { center: "middle", right: "end", end: "end" }[this.textAlign] ?? "start";
    const baseline = { middle: "central", top: "hanging" }[this.textBaseline] ?? "auto";
    this.parts.push(
      `<text x="${n(x)}" y="${n(y)}" text-anchor="${anchor}" dominant-baseline="${baseline}" style="font:${escapeXml(this.font)}" ${paintAttributes("fill", this.fillStyle, this.globalAlpha)}>${escapeXml(text)}</text>`,
    );
  }
  /**
   * Images: a sprite with `svgCircle` ({fill, radius}) becomes a circle; any other image (or a
   * source rectangle of it) is embedded as a PNG data URL.
   */
  drawImage(image, ...args) {
    const [sx, sy, sw, sh, dx, dy, dw, dh] = args.length === 8 ? args : [0, 0, image.width, image.height, ...args];
    if (image.svgCircle) {
      const { fill, radius } = image.svgCircle;
      this.parts.push(`<circle cx="${n(dx + dw / 2)}" cy="${n(dy + dh / 2)}" r="${n(radius)}" ${paintAttributes("fill", fill, this.globalAlpha)}/>`);
      return;
    }
    const crop = document.createElement("canvas");
    crop.width = sw;
    crop.height = sh;
    crop.getContext("2d").drawImage(image, sx, sy, sw, sh, 0, 0, sw, sh);
    this.parts.push(
      `<image x="${n(dx)}" y="${n(dy)}" width="${n(dw)}" height="${n(dh)}" opacity="${this.globalAlpha}" style="image-rendering:pixelated" href="${crop.toDataURL("image/png")}"/>`,
    );
  }

  toString() {
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}">` +
      `<rect width="100%" height="100%" fill="#fff"/>${this.parts.join("")}</svg>`
    );
  }
}

/**
 * The plot's colour key as shown under it (its root's `.ramp`: e.g. the trails' brightness from
 * first layer to output), in reading order: `{text}`, `{swatch: css, round}` (an element with a
 * background colour) and `{stops: [[r, g, b, a], ...], width}` (one with a gradient); null if none.
 */
function shownKey(plot) {
  const ramp = plot.root?.querySelector(".ramp");
  if (!ramp || ramp.hidden) return null;
  const items = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        if (child.textContent.trim()) items.push({ text: child.textContent.trim() });
        continue;
      }
      if (child.nodeType !== Node.ELEMENT_NODE || child.tagName === "SELECT") continue;
      const style = getComputedStyle(child);
      const stops = (style.backgroundImage.match(/rgba?\([^)]*\)/g) ?? []).map((color) => {
        const [r, g, b, a = 1] = color.slice(color.indexOf("(") + 1, -1).split(",").map(Number);
        return [r, g, b, a];
      });
      if (stops.length) items.push({ stops, width: Math.min(KEY_BAR_PX, child.clientWidth || KEY_BAR_PX) });
      else if (style.backgroundColor !== "rgba(0, 0, 0, 0)") items.push({ swatch: style.backgroundColor, round: style.borderRadius === "50%" });
      walk(child);
    }
  };
  walk(ramp);
  return items.length ? items : null;
}

/** Positions `{item, x, row}` of the key's items in rows of `width`, and the number of rows. */
function layoutKey(items, width) {
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = FONT;
  const placed = [];
  let [x, row] = [8, 0];
  for (const item of items) {
    const size = item.text ? measure.measureText(item.text).width + 6 : item.stops ? item.width + 6 : KEY_SWATCH_PX + 3;
    if (x > 8 && x + size > width - 8) [x, row] = [8, row + 1];
    placed.push({ item, x, row });
    x += size;
  }
  return { placed, rows: items.length ? row + 1 : 0 };
}

/** The colour at `t` in [0, 1] of evenly spaced `stops`. */
function stopColor(stops, t) {
  const at = t * (stops.length - 1);
  const i = Math.max(0, Math.min(stops.length - 2, Math.floor(at)));
  const mixed = stops.length < 2 ? stops[0] : stops[i].map((c, k) => c + (stops[i + 1][k] - c) * (at - i));
  return `rgba(${mixed.slice(0, 3).map(Math.round).join(",")},${+mixed[3].toFixed(3)})`;
}

/** Draws the key laid out by `layoutKey` from height `top` down. */
function drawKey(ctx, { placed }, top) {
  ctx.font = FONT;
  ctx.textBaseline = "middle";
  ctx.textAlign = "start";
  for (const { item, x, row } of placed) {
    const y = top + KEY_ROW_PX * (row + 0.5);
    if (item.text) {
      ctx.fillStyle = "#616161";
      ctx.fillText(item.text, x, y);
    } else if (item.stops) {
      for (let k = 0; k < KEY_BAR_STEPS; k++) {
        ctx.fillStyle = stopColor(item.stops, (k + 0.5) / KEY_BAR_STEPS);
        ctx.fillRect(x + (k * item.width) / KEY_BAR_STEPS, y - KEY_SWATCH_PX / 2, item.width / KEY_BAR_STEPS + 0.3, KEY_SWATCH_PX);
      }
    } else {
      ctx.fillStyle = item.swatch;
      ctx.beginPath();
      if (item.round) ctx.arc(x + KEY_SWATCH_PX / 2, y, KEY_SWATCH_PX / 2, 0, 2 * Math.PI);
      else ctx.rect(x, y - KEY_SWATCH_PX / 2, KEY_SWATCH_PX, KEY_SWATCH_PX);
      ctx.fill();
    }
  }
}

/** The plot's key laid out for `width`, or null; and the height of everything under the plot. */
function footer(plot, legend, width) {
  const items = shownKey(plot);
  const key = items && layoutKey(items, width);
  const perRow = Math.max(1, Math.floor(width / LEGEND_ITEM_PX));
  return { key, height: (key ? key.rows * KEY_ROW_PX : 0) + Math.ceil(legend.length / perRow) * LEGEND_ROW_PX };
}

/** Draws the title, the plot, its key and the legend `[{name, hex}]` into `ctx`. */
function compose(ctx, plot, width, height, legend) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#212121";
  ctx.font = "500 14px Roboto, Arial, sans-serif";
  ctx.textBaseline = "middle";
  ctx.textAlign = "start";
  ctx.fillText(plot.exportTitle(), 8, TITLE_PX / 2);
  const perRow = Math.max(1, Math.floor(width / LEGEND_ITEM_PX));
  const { key, height: below } = footer(plot, legend, width);
  const plotHeight = height - TITLE_PX - below;
  ctx.save();
  ctx.translate(0, TITLE_PX);
  plot.paint(ctx, width, plotHeight);
  ctx.restore();
  if (key) drawKey(ctx, key, TITLE_PX + plotHeight);
  const legendTop = TITLE_PX + plotHeight + (key ? key.rows * KEY_ROW_PX : 0);
  ctx.font = FONT;
  ctx.textBaseline = "middle";
  ctx.textAlign = "start";
  legend.forEach(({ name, hex }, i) => {
    const x = 8 + (i % perRow) * LEGEND_ITEM_PX;
    const y = legendTop + LEGEND_ROW_PX * (Math.floor(i / perRow) + 0.5);
    ctx.fillStyle = hex;
    ctx.beginPath();
    ctx.arc(x + 5, y, 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "#212121";
    ctx.fillText(name, x + 14, y);
  });
}

function download(blob, filename) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function fileName(title, extension) {
  return `${title.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "") || "nnviz"}.${extension}`;
}

/**
 * The export of `plot` (a `Plot`) as an SVG string or a PNG blob, same size as on screen.
 * @param {{name: string, hex: string}[]} legend Classes to list under the plot.
 */
export async function render(plot, format, legend) {
  const width = plot.canvas.clientWidth;
  const height = TITLE_PX + plot.canvas.clientHeight + footer(plot, legend, width).height;
  if (format === "svg") {
    const svg = new SvgContext(width, height);
    compose(svg, plot, width, height, legend);
    return svg.toString();
  }
  const canvas = document.createElement("canvas");
  canvas.width = width * PNG_SCALE;
  canvas.height = height * PNG_SCALE;
  const ctx = canvas.getContext("2d");
  ctx.scale(PNG_SCALE, PNG_SCALE);
  compose(ctx, plot, width, height, legend);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

/** Downloads `plot` as `format` ("png" or "svg"). */
export async function exportPlot(plot, format, legend) {
  const result = await render(plot, format, legend);
  const blob = format === "svg" ? new Blob([result], { type: "image/svg+xml" }) : result;
  download(blob, fileName(plot.exportTitle(), format));
}
