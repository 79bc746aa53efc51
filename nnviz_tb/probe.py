"""Validation of the probe set `(x, labels)` and its image thumbnails (NumPy only)."""

import numbers

import numpy as np

from nnviz_tb.metadata import MAX_CLASSES

MAX_THUMBNAIL_SIDE = 32
# What a probe input must look like to be taken for an image (see `make_thumbnails`).
MIN_IMAGE_SIDE = 8
MAX_IMAGE_ASPECT = 4
# Side of the keys that find a saliency image among the probe's thumbnails, and how near (0..1) a match is.
KEY_SIDE = 8
KEY_TOLERANCE = 0.05


def check_probe(probe, class_names=None):
    """Validates a probe set and returns `(x, labels, class_names)`.

    Args:
      probe: `(x, labels)`. `x` is an array (or a list/dict of arrays for a
        multi-input model) with `N` samples; `labels` holds `N` class ids
        (integers, or floats with integral values such as binary 0./1.
        labels), or `N` one-hot rows. Ids must be below `MAX_CLASSES`.
      class_names: Optional sequence of names, one per class id.

    Returns:
      `x` unchanged, `labels` as int32 `[N]`, class names as a list of str
      (`"0"`, `"1"`, ... when not given).

    Raises:
      ValueError: with a message naming the problem.
    """
    if not isinstance(probe, (tuple, list)) or len(probe) != 2:
        raise ValueError(
            "The 'probe' parameter must be a tuple (x, labels) of arrays. Got %r instead."
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
    if len(class_names) > MAX_CLASSES:
        raise ValueError(
            "The 'class_names' parameter must name at most %d classes. Got %d names instead."
            % (MAX_CLASSES, len(class_names))
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
            "The probe inputs must be an array with one row per sample (a tf.data.Dataset "
            "or a generator is not accepted: take a few batches as arrays). Got %r instead."
            % (type(x).__name__,)
        )
    return x.shape[0]


def _integer_labels(labels):
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1 and _is_one_hot(labels):
        labels = labels.argmax(axis=1)
    elif labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or not (_is_integral(labels) or labels.dtype == bool):
        raise ValueError(
            "The probe labels must be class ids of shape [N] (integers, or floats with "
            "integral values), or one-hot rows. Got dtype %s and shape %s%s instead."
            % (labels.dtype, labels.shape, _first_non_integral(labels))
        )
    if labels.size and labels.min() < 0:
        raise ValueError("The probe labels must be >= 0. Got %d." % labels.min())
    if labels.size and labels.max() >= MAX_CLASSES:
        raise ValueError(
            "The probe labels must be class ids below %d (at most %d classes). Got %d "
            "instead. Map sparse ids to 0..K-1 first, e.g. `ids, labels = np.unique(labels, "
            "return_inverse=True)`, and pass `class_names=[str(i) for i in ids]`."
            % (MAX_CLASSES, MAX_CLASSES, labels.max())
        )
    return labels.astype(np.int32)


def _is_integral(labels):
    if np.issubdtype(labels.dtype, np.integer):
        return True
    if not np.issubdtype(labels.dtype, np.floating):
        return False
    return bool(np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)))


def _first_non_integral(labels):
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.floating):
        return ""
    bad = np.flatnonzero(~np.isfinite(labels) | (labels != np.round(labels)))
    return " (e.g. %r at index %d)" % (float(labels[bad[0]]), bad[0]) if bad.size else ""


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


def check_image_shape(image_shape):
    """Returns `image_shape` as a tuple `(H, W)` or `(H, W, C)` (None stays None)."""
    if image_shape is None:
        return None
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else ()
    if len(shape) not in (2, 3) or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in shape
    ) or (len(shape) == 3 and shape[2] not in (1, 3, 4)):
        raise ValueError(
            "The 'image_shape' parameter must be (H, W) or (H, W, C) with C in 1, 3, 4. "
            "Got %r instead." % (image_shape,)
        )
    return tuple(int(s) for s in shape)


def make_thumbnails(x, image_shape=None):
    """Small uint8 images of the probe inputs, or None if they are not images.

    Images are `[N, H, W]`, `[N, H, W, C]` (C in 1, 3, 4) or flat `[N, D]`
    with `D` a perfect square (e.g. 784 = 28 x 28), with sides of at least
    `MIN_IMAGE_SIDE` pixels and an aspect ratio of at most
    `MAX_IMAGE_ASPECT` (so sequences such as `[N, 128, 1]` are not images),
    or any input whose sample has `H * W * C` values when `image_shape` is
    given. Signed integer inputs with values outside 0..255 are token ids,
    not pixels (unless `image_shape` is given). Sides are shrunk by block averaging to at most 32 pixels and
    values are scaled to 0..255 over the finite values of the probe set
    (NaN and infinities become 0).

    Returns:
      uint8 `[N, h, w]` (grey) or `[N, h, w, 3]` (colour), or None.

    Raises:
      ValueError: if `image_shape` does not fit the inputs.
    """
    image_shape = check_image_shape(image_shape)
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.number) or x.ndim < 2:
        return None
    if image_shape is None and _token_ids(x):
        return None
    images = _as_images(x, image_shape)
    if images is None:
        return None
    factor = max(1, -(-max(images.shape[1:3]) // MAX_THUMBNAIL_SIDE))
    images = block_mean(images.astype(np.float32), min(factor, *images.shape[1:3]))
    finite = np.isfinite(images)
    lo, hi = (images[finite].min(), images[finite].max()) if finite.any() else (0.0, 0.0)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    images = np.where(finite, (images - lo) * scale, 0.0)
    return np.clip(images, 0, 255).astype(np.uint8)


def _as_images(x, image_shape):
    n = x.shape[0]
    if image_shape is not None:
        if int(np.prod(x.shape[1:])) != int(np.prod(image_shape)):
            raise ValueError(
                "The 'image_shape' parameter must have as many values as one probe input: "
                "%s holds %d values but the inputs have shape %s."
                % (image_shape, int(np.prod(image_shape)), x.shape[1:])
            )
        images = x.reshape((n,) + image_shape)
    elif x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        images = x.reshape(n, side, side) if side * side == x.shape[1] else None
    elif x.ndim == 3 or (x.ndim == 4 and x.shape[3] in (1, 3, 4)):
        images = x
    else:
        return None
    if images is None or (image_shape is None and not _image_like(images.shape[1:3])):
        return None
    if images.ndim == 4:
        images = images[..., 0] if images.shape[3] == 1 else images[..., :3]
    return images


def _token_ids(x):
    """Whether integer inputs hold values no 8-bit image has (e.g. ids of a 2,000-word vocabulary)."""
    return np.issubdtype(x.dtype, np.signedinteger) and x.size > 0 and (x.min() < 0 or x.max() > 255)


def _image_like(sides):
    return min(sides) >= MIN_IMAGE_SIDE and max(sides) <= MAX_IMAGE_ASPECT * min(sides)


def thumbnail_keys(thumbnails):
    """Keys of `[N, h, w(, 3)]` thumbnails (`make_thumbnails`) made over any image set.

    Each thumbnail is block-averaged to sides of at most `KEY_SIDE` and scaled
    to its own min-max range (`make_thumbnails` scales over the whole set), so
    an image has about the same key in any set it is part of.

    Returns:
      float32 `[N, k, k(, 3)]` in 0..1.
    """
    thumbnails = np.asarray(thumbnails, dtype=np.float32)
    factor = max(1, -(-max(thumbnails.shape[1:3]) // KEY_SIDE))
    keys = block_mean(thumbnails, min(factor, *thumbnails.shape[1:3]))
    axes = tuple(range(1, keys.ndim))
    lo, hi = keys.min(axis=axes, keepdims=True), keys.max(axis=axes, keepdims=True)
    return ((keys - lo) / np.where(hi > lo, hi - lo, 1.0)).astype(np.float32)


def match_keys(probe_keys, keys, tolerance=KEY_TOLERANCE):
    """For each probe point, the image of `keys` it is: int32 `[N]`, -1 where none.

    Args:
      probe_keys: `[N, k, k(, 3)]` keys of the probe's thumbnails (`thumbnail_keys`).
      keys: `[I, k, k(, 3)]` keys of the images, in 0..1.
      tolerance: The largest difference of any key value for a match.
    """
    found = np.full(len(probe_keys), -1, np.int32)
    if probe_keys.shape[1:] != keys.shape[1:] or not len(keys):
        return found
    probe_flat = probe_keys.reshape(len(probe_keys), -1)
    distances = np.stack([np.abs(probe_flat - key.reshape(1, -1)).max(axis=1) for key in keys])
    nearest = distances.argmin(axis=0)
    close = distances[nearest, np.arange(len(probe_keys))] <= tolerance
    found[close] = nearest[close]
    return found


def block_mean(images, factor):
    """`[N, H, W, ...]` averaged over `factor` x `factor` blocks (a remainder of rows and columns is cut)."""
    if factor == 1:
        return images
    n, h, w = images.shape[:3]
    h, w = h - h % factor, w - w % factor
    images = images[:, :h, :w]
    blocks = images.reshape((n, h // factor, factor, w // factor, factor) + images.shape[3:])
    return blocks.mean(axis=(2, 4))
