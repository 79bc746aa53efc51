// The paper's "image thumbnails" view: probe images drawn at their projected positions,
// subsampled greedily (in the fixed drawing order) so that no two overlap.

/** Side of a thumbnail in CSS pixels for a plot `width` pixels wide. */
export function thumbnailSide(width) {
  return Math.round(Math.max(14, Math.min(30, width / 16)));
}

/**
 * Draws the thumbnails of visible (and, with a selection, selected) points that fit without
 * overlapping, each framed in its class colour. Returns how many were drawn.
 * @param {{image: HTMLImageElement, tileWidth: number, tileHeight: number, columns: number}} atlas
 *   From ./thumbnails: tile `i` is at column `i % columns`, row `floor(i / columns)`.
 */
export function paintThumbnails(ctx, pixels, sequence, display, atlas, width) {
  const { labels, order } = sequence;
  const { visible, selection, colors } = display;
  const side = thumbnailSide(width);
  const placed = new Map(); // Grid cell of side `side` → centre of the thumbnail placed in it.
  const overlaps = (x, y, cx, cy) => {
    for (let gx = cx - 1; gx <= cx + 1; gx++) {
      for (let gy = cy - 1; gy <= cy + 1; gy++) {
        const other = placed.get(`${gx},${gy}`);
        if (other && Math.abs(other[0] - x) < side && Math.abs(other[1] - y) < side) return true;
      }
    }
    return false;
  };
  const { image, tileWidth, tileHeight, columns } = atlas;
  ctx.lineWidth = 1.5;
  for (const i of order) {
    if (!visible[labels[i]] || (selection && !selection[i])) continue;
    const x = pixels[2 * i];
    const y = pixels[2 * i + 1];
    const cx = Math.floor(x / side);
    const cy = Math.floor(y / side);
    if (overlaps(x, y, cx, cy)) continue;
    placed.set(`${cx},${cy}`, [x, y]);
    const [left, top] = [x - side / 2, y - side / 2];
    ctx.drawImage(image, (i % columns) * tileWidth, Math.floor(i / columns) * tileHeight, tileWidth, tileHeight, left, top, side, side);
    ctx.strokeStyle = colors[labels[i]].hex;
    ctx.strokeRect(left, top, side, side);
  }
  return placed.size;
}
