"""Random augmentations of one probe input, for the augmentation-variance analysis.

An augmentation is any callable `augment(x, rng) -> x'` that returns a
randomly changed copy of one input `x` (same shape), drawing its randomness
from the NumPy `Generator` `rng`. For a model with several inputs, `x` is
one sample of each, as a list or dict like the probe's. `RandomAugmentation`
is the default; it changes only floating-point inputs (integers such as
token ids are left as they are: noise would make them other, or invalid, ids).
"""

import numpy as np
from scipy import ndimage


class RandomAugmentation:
    """Small random shift, rotation and Gaussian noise of an image (NumPy/SciPy).

    The image is rotated by an angle drawn uniformly from
    `[-max_rotation, max_rotation]` degrees about its centre and shifted by
    up to `max_shift` pixels along each axis (one bilinear resampling, edges
    extended), then noise with standard deviation `noise` times the value
    range of the input is added. Inputs that are not images (see
    `nnviz_tb.probe.make_thumbnails` for what counts as one) only get the
    noise. Inputs that are not floating-point (token ids, masks) are
    returned unchanged; a list or dict of inputs is augmented input by input.

    Args:
      max_shift: Largest shift in pixels. Defaults to 2.
      max_rotation: Largest rotation in degrees. Defaults to 10.
      noise: Noise standard deviation, relative to the input's value range.
        Defaults to 0.05.
      image_shape: `(H, W)` or `(H, W, C)` of flat inputs that are not square
        images. Defaults to None.
    """

    def __init__(self, max_shift=2.0, max_rotation=10.0, noise=0.05, image_shape=None):
        self.max_shift = max_shift
        self.max_rotation = max_rotation
        self.noise = noise
        self.image_shape = image_shape

    def __repr__(self):
        return "RandomAugmentation(max_shift=%g, max_rotation=%g, noise=%g)" % (
            self.max_shift, self.max_rotation, self.noise
        )

    def __call__(self, x, rng):
        if isinstance(x, dict):
            return {key: self(value, rng) for key, value in x.items()}
        if isinstance(x, (list, tuple)):
            return [self(value, rng) for value in x]
        x = np.asarray(x)
        if not is_float(x):
            return x.copy()
        image = _as_image(x, self.image_shape)
        values = x.astype(np.float32)
        if image is not None:
            values = self._move(image.astype(np.float32), rng).reshape(x.shape)
        spread = float(np.ptp(x)) if x.size else 0.0
        values = values + rng.normal(0.0, self.noise * spread, size=x.shape)
        return values.astype(x.dtype)

    def _move(self, image, rng):
        """Rotates and shifts an `[H, W]` or `[H, W, C]` image about its centre."""
        angle = np.deg2rad(rng.uniform(-self.max_rotation, self.max_rotation))
        shift = rng.uniform(-self.max_shift, self.max_shift, size=2)
        cos, sin = np.cos(angle), np.sin(angle)
        matrix = np.eye(image.ndim)
        matrix[:2, :2] = [[cos, -sin], [sin, cos]]
        centre = (np.array(image.shape) - 1) / 2.0
        centre[2:] = 0
        offset = centre - matrix @ centre
        offset[:2] -= shift
        return ndimage.affine_transform(image, matrix, offset, order=1, mode="nearest")


def _as_image(x, image_shape):
    """`x` as an `[H, W]` or `[H, W, C]` image, or None if it is not one."""
    if image_shape is not None:
        return x.reshape(image_shape)
    if x.ndim == 1:
        side = int(round(np.sqrt(x.size)))
        return x.reshape(side, side) if side > 1 and side * side == x.size else None
    return x if x.ndim in (2, 3) else None


def is_float(array):
    """Whether an input array holds floating-point values (which augmentations may vary)."""
    return np.issubdtype(np.asarray(array).dtype, np.floating)


def named_inputs(x):
    """`[(name, array)]` of a probe's inputs: `x` itself (name None), a list's or a dict's."""
    if isinstance(x, dict):
        return [(str(key), value) for key, value in x.items()]
    if isinstance(x, (list, tuple)):
        return [("input %d" % i, value) for i, value in enumerate(x)]
    return [(None, x)]


def _map(function, *structures):
    """`function` applied to the arrays of same-structured inputs, keeping the structure."""
    first = structures[0]
    if isinstance(first, dict):
        return {key: function(*(s[key] for s in structures)) for key in first}
    if isinstance(first, (list, tuple)):
        if any(len(s) != len(first) for s in structures):
            raise TypeError("%d inputs instead of %d" % (len(structures[-1]), len(first)))
        return [function(*parts) for parts in zip(*structures)]
    return function(*structures)


def sample(x, index):
    """Probe point `index` of inputs `x` (an array, or a list/dict of arrays)."""
    return _map(lambda array: np.asarray(array)[index], x)


def rows(x, start, stop):
    """Probe points `start` to `stop` of inputs `x` (an array, or a list/dict of arrays)."""
    return _map(lambda array: array[start:stop], x)


def concatenate(x, copies):
    """Inputs `x` followed by `copies` (same structure), input by input."""
    return _map(lambda a, b: np.concatenate([np.asarray(a), np.asarray(b).astype(np.asarray(a).dtype)]), x, copies)


def augmented_copies(x, augment, num, seed):
    """`num` augmentations of one input `x`, stacked: `[num, *x.shape]` (input by input).

    Raises:
      ValueError: if `augment` returns something of another shape or structure.
    """
    rng = np.random.default_rng(seed)
    copies = [augment(x, rng) for _ in range(num)]
    try:
        return _map(lambda original, *variants: _stacked(original, variants), x, *copies)
    except (KeyError, TypeError) as e:
        raise ValueError(
            "The 'augment' callable must return inputs structured like its argument (%s). "
            "Got %r instead (%s)." % (type(x).__name__, type(copies[0]).__name__, e)
        ) from e


def _stacked(original, variants):
    stacked = np.stack([np.asarray(v) for v in variants])
    if stacked.shape[1:] != np.shape(original):
        raise ValueError(
            "The 'augment' callable must return an input of shape %s. Got shape %s instead."
            % (np.shape(original), stacked.shape[1:])
        )
    return stacked
