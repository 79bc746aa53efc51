"""The probe's thumbnails as one atlas image."""

import numpy as np


def atlas(thumbnails):
    """`[N, h, w(, 3)]` images as one grid of `ceil(sqrt(N))` columns (unused tiles black)."""
    n, h, w = thumbnails.shape[:3]
    cols = max(1, int(np.ceil(np.sqrt(n))))
    rows = -(-n // cols)
    padded = np.zeros((rows * cols,) + thumbnails.shape[1:], thumbnails.dtype)
    padded[:n] = thumbnails
    grid = padded.reshape((rows, cols) + thumbnails.shape[1:]).swapaxes(1, 2)
    return grid.reshape((rows * h, cols * w) + thumbnails.shape[3:])

