// Export of a plot as PNG or SVG: the same `paint(ctx, width, height)` that draws it on screen
// draws it into a 2x canvas or into `SvgContext`, which records the subset of the Canvas 2D API
// the views use as SVG elements. A title on top and the visible classes below are added.

const TITLE_PX = 28;
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

/** Draws the title, the plot and the legend `[{name, hex}]` into `ctx`. */
function compose(ctx, plot, width, height, legend) {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#212121";
  ctx.font = "500 14px Roboto, Arial, sans-serif";
  ctx.textBaseline = "middle";
  ctx.textAlign = "start";
  ctx.fillText(plot.exportTitle(), 8, TITLE_PX / 2);
  const perRow = Math.max(1, Math.floor(width / LEGEND_ITEM_PX));
  const plotHeight = height - TITLE_PX - Math.ceil(legend.length / perRow) * LEGEND_ROW_PX;
  ctx.save();
  ctx.translate(0, TITLE_PX);
  plot.paint(ctx, width, plotHeight);
  ctx.restore();
  ctx.font = FONT;
  ctx.textBaseline = "middle";
  ctx.textAlign = "start";
  legend.forEach(({ name, hex }, i) => {
    const x = 8 + (i % perRow) * LEGEND_ITEM_PX;
    const y = TITLE_PX + plotHeight + LEGEND_ROW_PX * (Math.floor(i / perRow) + 0.5);
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
  const perRow = Math.max(1, Math.floor(width / LEGEND_ITEM_PX));
  const height = TITLE_PX + plot.canvas.clientHeight + Math.ceil(legend.length / perRow) * LEGEND_ROW_PX;
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
