"""`SaliencyLogger`: saliency maps of a few probe images, per epoch, in TensorBoard's Images tab and the nnviz tab."""

import functools
import logging
import numbers

import numpy as np
import tensorflow as tf

from nnviz_tb import metadata, png, probe, saliency
from nnviz_tb.callbacks.epoch_recorder import EpochRecorder
from nnviz_tb.summary import write_blobs, write_image

logger = logging.getLogger(__name__)

MAX_IMAGES = 64
BASELINES = ("zeros", "mean")
MAX_MAP_SIDE = 64  # Sides of the maps written for the nnviz tab (larger ones are block-averaged).


class SaliencyLogger(EpochRecorder):
    """Writes one image grid per saliency method and recorded epoch (TensorBoard's Images tab).

    Before training (step 0) and after every `every_n_epochs` epochs (step =
    epochs trained; the last epoch of a fit too), each method's grid has
    one row per image and five panels: the source image, the baseline,
    the saliency (attribution of the target class score: the label's, else
    the predicted class's; the output's column, or for a softmax output
    the centered logit `log p_c - mean_j log p_j`, which does not saturate
    when the model is sure), the delta
    (saliency minus the baseline's saliency for the same class) and the
    overlay (delta x source, the source scaled to 0..1). Saliency, delta
    and overlay are red where positive and blue where negative, on a
    colour scale per method that only grows: the largest 99th percentile of
    |saliency| over the images at any recorded epoch of the run so far, so
    maps that grow over training grow brighter without saturating (each
    step's description gives its scale). Tags: `saliency/<method>`. TensorBoard keeps 10
    steps per image tag unless started with `--samples_per_plugin=images=0`.

    For the nnviz tab it also writes each method's saliency maps alone, as
    small PNGs on a colour scale of their epoch (the same percentile; tags
    `nnviz/saliency/<method>/epoch_<EEEEE>`, see `nnviz_tb.metadata`), with
    a key of each image: clicking a point of an `ActivationLogger` probe
    that is one of the images shows its maps at the shown epoch under its
    thumbnail.

    Each method is one `tf.function` over the batch of images and their
    baselines. Only the chief worker of a `tf.distribute` cluster writes;
    a failed record is one warning, never a crashed fit.

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL).
      images: At most 64 images, `[N, H, W]`, `[N, H, W, C]` or flat square
        `[N, H * W]` (any shape with `image_shape`), as the model takes them.
      labels: Class ids `[N]` whose score is explained. Defaults to None
        (each image's predicted class at the recorded epoch).
      methods: Any of `"gradient"` (the input gradient), `"smoothgrad"`,
        `"integrated_gradients"` (gradient x (input - baseline) along the
        path, summing to the score difference) and `"gradcam"` (models with
        a 2-D convolution). Defaults to `("gradient",)`.
      baseline: `"zeros"`, `"mean"` (the images' mean), a number or an array
        shaped like one image. Defaults to `"zeros"`.
      layer: Grad-CAM's layer. Defaults to None (the last conv layer).
      every_n_epochs: Record every this many epochs. Defaults to 1.
      smoothgrad_samples: Noisy copies per image for SmoothGrad. Defaults to 16.
      noise_level: SmoothGrad's noise std over each image's value range. Defaults to 0.15.
      ig_steps: Integrated Gradients' steps. Defaults to 32.
      image_shape: `(H, W)` or `(H, W, C)` of one image when `images` do
        not look like images. Defaults to None.

    Example:

    ```python
    logger = nnviz_tb.SaliencyLogger("logs/cnn", x_test[:16], y_test[:16],
                                     methods=("gradient", "gradcam"))
    model.fit(x_train, y_train, epochs=5, callbacks=[logger])
    # then: tensorboard --logdir logs  (Images tab: saliency/gradcam)
    ```
    """

    def __init__(self, log_dir, images, labels=None, methods=("gradient",), baseline="zeros", layer=None,
                 every_n_epochs=1, smoothgrad_samples=16, noise_level=0.15, ig_steps=32, image_shape=None):
        super().__init__(log_dir, every_n_epochs)
        self.images = _check_images(images)
        self.image_shape = _check_image_shape(self.images, image_shape)
        self.labels = _check_labels(labels, len(self.images))
        self.methods = _check_methods(methods)
        self.baseline = _check_baseline(baseline, self.images)
        if layer is not None and not isinstance(layer, str):
            raise ValueError("The 'layer' parameter must be a layer name or None. Got %r instead." % (layer,))
        self.layer = layer
        self.smoothgrad_samples = _positive_int("smoothgrad_samples", smoothgrad_samples)
        self.ig_steps = _positive_int("ig_steps", ig_steps)
        if isinstance(noise_level, bool) or not isinstance(noise_level, numbers.Real) or not noise_level >= 0:
            raise ValueError("The 'noise_level' parameter must be a number >= 0. Got %r instead." % (noise_level,))
        self.noise_level = float(noise_level)
        finite = self.images[np.isfinite(self.images)]
        self._range = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        thumbnails = probe.make_thumbnails(self.images.reshape((len(self.images),) + self.image_shape))
        self._keys = b"" if thumbnails is None else metadata.encode_array(
            np.round(255 * probe.thumbnail_keys(thumbnails)).astype(np.uint8))
        self._functions = None
        self._warned = False
        self.layer_ = None
        self.scales_ = {}

    def set_model(self, model):
        super().set_model(model)
        self._functions = None
        if model.built:  # Fail before training starts on a model Grad-CAM cannot explain.
            self._functions = self._build()

    def _build(self):
        width = int(saliency.first_output(self.model.outputs).shape[-1] or 0)
        if self.labels is not None and width and self.labels.max() >= width:
            raise ValueError(
                "The 'labels' parameter must hold classes of the model's output (width %d). Got %d instead."
                % (width, self.labels.max())
            )
        layer = saliency.conv_layer(self.model, self.layer) if "gradcam" in self.methods else None
        self.layer_ = None if layer is None else layer.name
        return {method: saliency.attribution_fn(
            self.model, method, baseline=self.baseline, layer=layer, size=self.image_shape[:2],
            smoothgrad_samples=self.smoothgrad_samples, noise_level=self.noise_level, ig_steps=self.ig_steps,
        ) for method in self.methods}

    def on_train_begin(self, logs=None):
        if self._functions is None:
            self._functions = self._build()
        self._warned = False
        super().on_train_begin(logs)

    def _record(self, step):
        if step == 0:
            self.scales_ = {}
        try:
            self._record_methods(step)
        except Exception as e:  # Never crash training because of a saliency map.
            self._warn("could not compute the saliency maps at epoch %d: %s" % (step, e))

    def _record_methods(self, step):
        n = len(self.images)
        x = tf.constant(self.images)
        both = tf.concat([x, tf.broadcast_to(tf.constant(self.baseline), x.shape)], axis=0)
        target = self._targets(x)
        targets = tf.constant(np.concatenate([target, target]), tf.int32)
        source = self._display(self.images)
        base = self._display(np.broadcast_to(self.baseline, self.images.shape))
        for method, fn in self._functions.items():
            maps = saliency.to_maps(fn(both, targets).numpy(), self.image_shape[:2] if method == "gradcam"
                                    else self.image_shape)
            if not np.isfinite(maps).all():
                self._warn("%s maps have NaN or infinite values at epoch %d" % (method, step))
            epoch_scale = saliency.fixed_scale(maps[:n])  # The nnviz tab's maps use it as it is.
            # Fixed at the first epoch instead, 68 % of a trained CNN's gradient panel was at full colour.
            self.scales_[method] = max(self.scales_.get(method, 0.0), epoch_scale)
            delta = maps[:n] - maps[n:]
            panels = (source, base, maps[:n], delta, delta * source)
            self._writer.submit(functools.partial(_write_grid, method, step, panels, self.scales_[method]))
            info = {"targets": target.tolist(), "scale": epoch_scale,
                    "labels": None if self.labels is None else self.labels.tolist(),
                    "layer": self.layer_ if method == "gradcam" else None}
            self._writer.submit(functools.partial(_write_maps, method, step, maps[:n], info, self._keys))

    def _targets(self, x):
        """The classes explained: the labels, else the model's predicted classes `[N]` now."""
        if self.labels is not None:
            return self.labels
        outputs = saliency.first_output(self.model(x, training=False))
        return np.argmax(np.reshape(np.asarray(outputs), (len(self.images), -1)), axis=1).astype(np.int32)

    def _display(self, x):
        """Images `[N, ...]` as grey maps `[N, H, W]` in 0..1 (channel mean, the images' value range)."""
        lo, hi = self._range
        channels = self.image_shape[2] if len(self.image_shape) == 3 else 1
        return (saliency.to_maps(x, self.image_shape) / channels - lo) / (hi - lo or 1.0)

    def _warn(self, message):
        if not self._warned:
            self._warned = True
            logger.warning("nnviz_tb SaliencyLogger: %s.", message)


def _write_grid(method, step, panels, scale):
    """Writes one method's grid (on the writer thread); its description gives the colour scale."""
    description = "Rows: images. Columns: %s. Colour scale: +-%.4g." % (", ".join(saliency.PANELS), scale)
    write_image(saliency.tag(method), saliency.grid(*panels, scale=scale), step, description)


def _write_maps(method, step, maps, info, keys):
    """Writes one method's maps `[N, H, W]` for the nnviz tab (on the writer thread), see `metadata`."""
    factor = max(1, -(-max(maps.shape[1:]) // MAX_MAP_SIDE))
    colours = saliency.diverging(probe.block_mean(maps, min(factor, *maps.shape[1:])), info["scale"])
    pngs = [png.encode(image, fast=True) for image in colours]
    summary_metadata = metadata.create_summary_metadata(metadata.KIND_SALIENCY, method=method, epoch=step,
                                                        num_images=len(pngs))
    write_blobs(metadata.saliency_tag(method, step), [metadata.encode_json(info), keys] + pngs, step,
                summary_metadata)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError("The '%s' parameter must be an integer >= 1. Got %r instead." % (name, value))
    return int(value)


def _check_images(images):
    arr = np.asarray(images) if hasattr(images, "shape") else None
    if arr is None or arr.ndim < 2 or not np.issubdtype(arr.dtype, np.number) or not 1 <= len(arr) <= MAX_IMAGES:
        raise ValueError(
            "The 'images' parameter must be a numeric array of 1 to %d images [N, ...]. Got %s instead."
            % (MAX_IMAGES, "shape %s" % (arr.shape,) if arr is not None else repr(type(images).__name__))
        )
    return arr.astype(np.float32)


def _check_image_shape(images, image_shape):
    if image_shape is not None:
        shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else ()
        if len(shape) not in (2, 3) or int(np.prod(shape)) != int(np.prod(images.shape[1:])):
            raise ValueError(
                "The 'image_shape' parameter must be (H, W) or (H, W, C) with as many values as one image "
                "(shape %s). Got %r instead." % (images.shape[1:], image_shape)
            )
        return tuple(int(s) for s in shape)
    side = int(round(np.sqrt(images.shape[1]))) if images.ndim == 2 else 0
    if images.ndim == 2 and side * side == images.shape[1]:
        return (side, side)
    if images.ndim == 3 or (images.ndim == 4 and images.shape[3] in (1, 3, 4)):
        return tuple(images.shape[1:])
    raise ValueError(
        "The 'images' parameter must hold images [N, H, W], [N, H, W, C] or flat square ones; pass "
        "`image_shape` for others. Got shape %s instead." % (images.shape,)
    )


def _check_labels(labels, n):
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0:
        raise ValueError(
            "The 'labels' parameter must be None or %d class ids >= 0, one per image. Got %r instead."
            % (n, labels if arr.size <= 8 else "shape %s" % (arr.shape,))
        )
    return arr.astype(np.int32)


def _check_methods(methods):
    methods = (methods,) if isinstance(methods, str) else methods
    try:
        methods = tuple(methods)
    except TypeError:
        methods = ()
    if not methods or len(set(methods)) != len(methods) or not set(methods) <= set(saliency.METHODS):
        raise ValueError(
            "The 'methods' parameter must be a non-empty list of distinct methods among %s. Got %r instead."
            % (saliency.METHODS, methods)
        )
    return methods


def _check_baseline(baseline, images):
    if isinstance(baseline, str) and baseline in BASELINES:
        return np.zeros(images.shape[1:], np.float32) if baseline == "zeros" else images.mean(axis=0)
    if isinstance(baseline, numbers.Real) and not isinstance(baseline, bool):
        return np.full(images.shape[1:], baseline, np.float32)
    arr = np.asarray(baseline) if hasattr(baseline, "shape") else None
    if arr is None or arr.shape != images.shape[1:] or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(
            "The 'baseline' parameter must be one of %s, a number or an array of one image's shape %s. "
            "Got %r instead." % (BASELINES, images.shape[1:], baseline if arr is None else "shape %s" % (arr.shape,))
        )
    return arr.astype(np.float32)
