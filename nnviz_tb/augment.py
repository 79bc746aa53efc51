"""Random augmentations of one probe input, for the augmentation-variance analysis.

An augmentation is any callable `augment(x, rng) -> x'` that returns a
randomly changed copy of one input `x` (same shape), drawing its randomness
from the NumPy `Generator` `rng`. `RandomAugmentation` is the default.
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
    noise.

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
        x = np.asarray(x)
        image = _as_image(x, self.image_shape)
        values = x.astype(np.float32)
        if image is not None:
            values = self._move(image.astype(np.float32), rng).reshape(x.shape)
        spread = float(np.ptp(x)) if x.size else 0.0
        values = values + rng.normal(0.0, self.noise * spread, size=x.shape)
        return values.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32)

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


def augmented_copies(x, augment, num, seed):
    """`num` augmentations of one input `x`, stacked: `[num, *x.shape]`.

    Raises:
      ValueError: if `augment` returns something of another shape.
    """
    rng = np.random.default_rng(seed)
    copies = np.stack([np.asarray(augment(x, rng)) for _ in range(num)])
    if copies.shape[1:] != np.shape(x):
        raise ValueError(
            "The 'augment' callable must return an input of shape %s. Got shape %s instead."
            % (np.shape(x), copies.shape[1:])
        )
    return copies
