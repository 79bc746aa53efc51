"""PNG images of the probe's thumbnails: one tile, or all of them as an atlas."""

import io

import numpy as np
from PIL import Image


def atlas(thumbnails):
    """`[N, h, w(, 3)]` images as one grid of `ceil(sqrt(N))` columns (unused tiles black)."""
    n, h, w = thumbnails.shape[:3]
    cols = max(1, int(np.ceil(np.sqrt(n))))
    rows = -(-n // cols)
    padded = np.zeros((rows * cols,) + thumbnails.shape[1:], thumbnails.dtype)
    padded[:n] = thumbnails
    grid = padded.reshape((rows, cols) + thumbnails.shape[1:]).swapaxes(1, 2)
    return grid.reshape((rows * h, cols * w) + thumbnails.shape[3:])


def png(image):
    """PNG bytes of a uint8 `[h, w]` or `[h, w, 3]` image."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
