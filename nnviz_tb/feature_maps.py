"""Image grids of conv feature maps and filters for TensorBoard's Images tab (NumPy only).

Each grid is one grayscale uint8 image `[H, W, 1]`: cells separated by a
1-pixel white line, each cell one map (or one kernel slice), min-max
scaled over the whole grid to 0..255 (a constant grid is all 0). 1-D maps
(Conv1D, `[L]`) are drawn as strips `STRIP_HEIGHT` pixels high.
"""

import numpy as np

STRIP_HEIGHT = 8
GAP = 1


def feature_map_tag(layer):
    """The Images-tab tag of `layer`'s feature maps."""
    return "feature_maps/%s" % layer


def filters_tag(layer):
    """The Images-tab tag of `layer`'s filters."""
    return "filters/%s" % layer


def scale(values):
    """float `values` min-max scaled to uint8 0..255 (all 0 when constant or not finite)."""
    values = np.asarray(values, np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, np.uint8)
    low, high = values[finite].min(), values[finite].max()
    span = high - low
    scaled = (values - low) / span if span > 0 else np.zeros_like(values)
    return np.rint(np.where(finite, scaled, 0) * 255).astype(np.uint8)


def tile(cells):
    """One grid image `[H, W, 1]` of `cells` `[rows, cols, h, w]` (uint8), 1-pixel white gaps."""
    rows, cols, h, w = cells.shape
    grid = np.full((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP, 1), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            grid[r * (h + GAP): r * (h + GAP) + h, c * (w + GAP): c * (w + GAP) + w, 0] = cells[r, c]
    return grid


def _as_cells(maps):
    """`[rows, cols, h, w]` from `[rows, ..., cols]` (channels last; 1-D maps as strips)."""
    maps = np.moveaxis(np.asarray(maps), -1, 1)  # [rows, cols, *spatial]
    if maps.ndim == 3:
        return np.repeat(maps[:, :, None, :], STRIP_HEIGHT, axis=2)
    return maps


def feature_map_grid(outputs, max_channels, channels_first=False):
    """The grid of a conv layer's outputs for some images: rows = images, columns = channels.

    Args:
      outputs: `[N, H, W, C]` (Conv2D) or `[N, L, C]` (Conv1D); `[N, C, ...]`
        when `channels_first`.
      max_channels: Only the first this many channels are shown.
      channels_first: Whether the channels axis is axis 1.

    Returns:
      uint8 `[H', W', 1]`, the shown maps min-max scaled together.
    """
    outputs = np.asarray(outputs)
    if channels_first:
        outputs = np.moveaxis(outputs, 1, -1)
    return tile(_as_cells(scale(outputs[..., :max_channels])))


def filter_grid(kernel, max_channels):
    """The grid of a conv kernel: rows = input channels, columns = the first `max_channels` filters.

    Args:
      kernel: `[kh, kw, in, out]` (Conv2D) or `[k, in, out]` (Conv1D).
      max_channels: Only the first this many filters are shown.

    Returns:
      uint8 `[H', W', 1]`, the shown weights min-max scaled together.
    """
    kernel = np.asarray(kernel)[..., :max_channels]
    return tile(_as_cells(np.moveaxis(scale(kernel), -2, 0)))
