"""Validation of the probe set `(x, labels)` and its image thumbnails (NumPy only)."""

import numbers

import numpy as np

MAX_THUMBNAIL_SIDE = 32


def check_probe(probe, class_names=None):
    """Validates a probe set and returns `(x, labels, class_names)`.

    Args:
      probe: `(x, labels)`. `x` is an array (or a list/dict of arrays for a
        multi-input model) with `N` samples; `labels` holds `N` integer class
        ids, or `N` one-hot rows.
      class_names: Optional sequence of names, one per class id.

    Returns:
      `x` unchanged, `labels` as int32 `[N]`, class names as a list of str
      (`"0"`, `"1"`, ... when not given).

    Raises:
      ValueError: with a message naming the problem.
    """
    if not isinstance(probe, (tuple, list)) or len(probe) != 2:
        raise ValueError(
            "The 'probe' parameter must be a tuple (x, labels). Got %r instead."
            % (type(probe).__name__,)
        )
    x, labels = probe
    num_points = _num_samples(x)
    if num_points == 0:
        raise ValueError("The 'probe' parameter must hold at least one sample.")
    labels = _integer_labels(labels)
    if len(labels) != num_points:
        raise ValueError(
            "The probe inputs and labels must have the same length. "
            "Got %d inputs and %d labels instead." % (num_points, len(labels))
        )
    num_classes = int(labels.max()) + 1
    if class_names is None:
        class_names = [str(i) for i in range(num_classes)]
    else:
        class_names = [str(name) for name in class_names]
        if len(class_names) < num_classes:
            raise ValueError(
                "The 'class_names' parameter must name every class: the labels "
                "go up to %d but only %d names were given."
                % (num_classes - 1, len(class_names))
            )
    return x, labels, class_names


def _num_samples(x):
    arrays = list(x.values()) if isinstance(x, dict) else x
    if isinstance(arrays, (list, tuple)):
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError(
                "All probe input arrays must have the same length. Got lengths %s."
                % sorted(lengths)
            )
        return lengths.pop()
    if not hasattr(x, "shape") or len(x.shape) == 0:
        raise ValueError(
            "The probe inputs must be an array with one row per sample. Got %r."
            % (type(x).__name__,)
        )
    return x.shape[0]


def _integer_labels(labels):
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1 and _is_one_hot(labels):
        labels = labels.argmax(axis=1)
    elif labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or not (
        np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool
    ):
        raise ValueError(
            "The probe labels must be integer class ids of shape [N] (or one-hot "
            "rows). Got dtype %s and shape %s instead." % (labels.dtype, labels.shape)
        )
    if labels.size and labels.min() < 0:
        raise ValueError("The probe labels must be >= 0. Got %d." % labels.min())
    return labels.astype(np.int32)


def _is_one_hot(labels):
    return bool(
        np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1)
    )


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            "The '%s' parameter must be an integer >= 1. Got %r instead." % (name, value)
        )
    return int(value)


def make_thumbnails(x, image_shape=None):
    """Small uint8 images of the probe inputs, or None if they are not images.

    Images are `[N, H, W]`, `[N, H, W, C]` (C in 1, 3, 4) or flat `[N, D]`
    with `D` a perfect square (e.g. 784 = 28 x 28) or `image_shape` given.
    Sides are shrunk by block averaging to at most 32 pixels and values are
    scaled to 0..255 over the whole probe set.

    Returns:
      uint8 `[N, h, w]` (grey) or `[N, h, w, 3]` (colour), or None.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.number):
        return None
    images = _as_images(x, image_shape)
    if images is None:
        return None
    factor = max(1, -(-max(images.shape[1:3]) // MAX_THUMBNAIL_SIDE))
    images = _block_mean(images.astype(np.float32), factor)
    lo, hi = np.nanmin(images), np.nanmax(images)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    images = np.nan_to_num((images - lo) * scale)
    return np.clip(images, 0, 255).astype(np.uint8)


def _as_images(x, image_shape):
    n = x.shape[0]
    if image_shape is not None:
        return x.reshape((n,) + tuple(image_shape))
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        return x.reshape(n, side, side) if side * side == x.shape[1] and side > 1 else None
    if x.ndim == 3:
        return x
    if x.ndim == 4 and x.shape[3] in (1, 3, 4):
        return x[..., 0] if x.shape[3] == 1 else x[..., :3]
    return None


def _block_mean(images, factor):
    if factor == 1:
        return images
    n, h, w = images.shape[:3]
    h, w = h - h % factor, w - w % factor
    images = images[:, :h, :w]
    blocks = images.reshape((n, h // factor, factor, w // factor, factor) + images.shape[3:])
    return blocks.mean(axis=(2, 4))
