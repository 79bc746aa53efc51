"""Saliency maps of a batch of images (TensorFlow), and the image grid that shows them (NumPy).

Every method is one `tf.function` over the whole batch: `attribution_fn`
returns `f(x, target) -> [N, ...]` with the gradient-based attributions of
the target class score (image `i`'s class `target[i]`: the model output's
column, or for a softmax output the centered logit, see `_score`), shaped like `x` (Grad-CAM: `[N, H, W]`, the map resized to the
images).
"""

import keras
import numpy as np
import tensorflow as tf

from nnviz_tb import metadata

METHODS = metadata.SALIENCY_METHODS
PANELS = ("source", "baseline", "saliency", "delta", "overlay")
TAG_PREFIX = "saliency/"
# Upper percentile of |saliency| over the first recorded epoch that fixes a method's colour scale.
SCALE_PERCENTILE = 99.0
MIN_PANEL_SIDE = 56
_GAP = 2


def tag(method):
    """The image summary tag of `method`, e.g. `"saliency/gradcam"`."""
    return TAG_PREFIX + method


def conv_layer(model, name=None):
    """The layer Grad-CAM explains: `name`, else the model's last layer with a 4-D output.

    Raises:
      ValueError: if there is no such layer, or `name`'s output is not `[N, h, w, C]`.
    """
    if name is not None:
        try:
            layer = model.get_layer(name)
        except ValueError:
            raise ValueError(
                "The 'layer' parameter must name a layer of the model. Got %r instead; the layers are %s."
                % (name, [lay.name for lay in model.layers])
            ) from None
        if len(_output_shape(layer)) != 4:
            raise ValueError(
                "The 'layer' parameter must name a layer with a [N, h, w, C] output for Grad-CAM. "
                "Got %r, whose output shape is %s, instead." % (name, _output_shape(layer))
            )
        return layer
    convs = [lay for lay in model.layers if "conv" in type(lay).__name__.lower() and len(_output_shape(lay)) == 4]
    if not convs:
        raise ValueError(
            "The 'methods' parameter asks for 'gradcam', which needs a model with a 2-D convolution "
            "layer; this model has none (its layers are %s). Drop 'gradcam' or pass `layer=` naming "
            "a layer with a [N, h, w, C] output." % [lay.name for lay in model.layers]
        )
    return convs[-1]


def _output_shape(layer):
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return ()


def first_output(outputs):
    """The first output tensor of a model call (a list or dict of outputs, or one tensor)."""
    if isinstance(outputs, dict):
        return next(iter(outputs.values()))
    if isinstance(outputs, (list, tuple)):
        return outputs[0]
    return outputs


def softmax_output(model):
    """Whether the model's (first) output is a softmax over several classes (its last layer's activation)."""
    try:
        layer = first_output(model.outputs)._keras_history[0]
    except (AttributeError, IndexError, TypeError, ValueError):
        return False
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") == "softmax" and int(layer.output.shape[-1] or 0) > 1


def _score(outputs, target, centered_logit=False):
    """Sum over the batch of each image's target class score (so gradients stay per image).

    With `centered_logit`, the outputs are softmax probabilities and the
    score is `log p_c - mean_j log p_j`, which equals `z_c - mean_j z_j` for
    the logits `z`: it does not saturate when the model is sure.
    """
    outputs = tf.reshape(first_output(outputs), [tf.shape(target)[0], -1])
    if centered_logit:
        logs = tf.math.log(tf.maximum(outputs, 1e-37))
        outputs = logs - tf.reduce_mean(logs, axis=1, keepdims=True)
    return tf.reduce_sum(tf.gather(outputs, target, axis=1, batch_dims=1))


def _gradients(model, x, target, centered_logit):
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = _score(model(x, training=False), target, centered_logit)
    return tape.gradient(score, x)


def _repeat(x, target, n):
    """`x` `[N, ...]` stacked `n` times (`[n * N, ...]`) and its targets."""
    return tf.reshape(tf.tile(x[None], [n] + [1] * x.shape.rank), [-1] + x.shape[1:].as_list()), tf.tile(target, [n])


def attribution_fn(model, method, baseline=None, layer=None, size=None, smoothgrad_samples=16,
                   noise_level=0.15, ig_steps=32, seed=0, centered_logit=None):
    """One `tf.function` `f(x, target)` computing `method`'s attributions of a batch.

    Args:
      model: A built Keras model.
      method: One of `METHODS`.
      baseline: Integrated Gradients' reference input, broadcastable to `x`. Defaults to None (zeros).
      layer: Grad-CAM's layer (see `conv_layer`). Defaults to None.
      size: Grad-CAM's output `(H, W)`. Defaults to None (the input's sides).
      smoothgrad_samples: Noisy copies per image for SmoothGrad. Defaults to 16.
      noise_level: SmoothGrad's noise std as a fraction of each image's value range. Defaults to 0.15.
      ig_steps: Integration steps (midpoint rule) for Integrated Gradients. Defaults to 32.
      seed: Seed of SmoothGrad's noise, the same at every call. Defaults to 0.
      centered_logit: Whether the score is the centered logit of a softmax
        output (see `_score`) rather than the output itself. Defaults to
        None (`softmax_output(model)`).

    Returns:
      `f(x [N, ...] float32, target [N] int32) -> float32 tensor`: `[N, ...]`
      like `x`, or `[N, H, W]` for Grad-CAM.
    """
    centered = softmax_output(model) if centered_logit is None else bool(centered_logit)
    if method == "gradient":
        return tf.function(lambda x, target: _gradients(model, x, target, centered))
    if method == "smoothgrad":
        def smoothgrad(x, target):
            n = smoothgrad_samples
            axes = list(range(1, x.shape.rank))
            spread = tf.reduce_max(x, axes, keepdims=True) - tf.reduce_min(x, axes, keepdims=True)
            noisy, targets = _repeat(x, target, n)
            noise = tf.random.stateless_normal(tf.shape(noisy), seed=[seed, 0])
            noisy += noise * noise_level * tf.tile(spread, [n] + [1] * (x.shape.rank - 1))
            grads = _gradients(model, noisy, targets, centered)
            return tf.reduce_mean(tf.reshape(grads, [n, -1] + x.shape[1:].as_list()), axis=0)
        return tf.function(smoothgrad)
    if method == "integrated_gradients":
        def integrated_gradients(x, target):
            base = tf.zeros_like(x) if baseline is None else tf.broadcast_to(tf.cast(baseline, x.dtype), tf.shape(x))
            alphas = (tf.range(ig_steps, dtype=x.dtype) + 0.5) / ig_steps
            alphas = tf.reshape(alphas, [-1] + [1] * x.shape.rank)
            path = tf.reshape(base[None] + alphas * (x - base)[None], [-1] + x.shape[1:].as_list())
            grads = _gradients(model, path, tf.tile(target, [ig_steps]), centered)
            return (x - base) * tf.reduce_mean(tf.reshape(grads, [ig_steps, -1] + x.shape[1:].as_list()), axis=0)
        return tf.function(integrated_gradients)
    if method == "gradcam":
        return _gradcam_fn(model, layer, size, centered)
    raise ValueError("The 'method' parameter must be one of %s. Got %r instead." % (METHODS, method))


def _gradcam_fn(model, layer, size, centered):
    layer = conv_layer(model, layer) if not hasattr(layer, "output") else layer
    try:
        both = keras.Model(model.inputs, [layer.output, first_output(model.outputs)])
    except (AttributeError, TypeError, ValueError) as e:
        raise ValueError(
            "Grad-CAM needs a Sequential or functional model, whose layer outputs can be read; "
            "this %s does not allow it (%s)." % (type(model).__name__, e)
        ) from None

    @tf.function
    def gradcam(x, target):
        with tf.GradientTape() as tape:
            maps, outputs = both(x, training=False)
            score = _score(outputs, target, centered)
        weights = tf.reduce_mean(tape.gradient(score, maps), axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))[..., None]
        sides = size if size is not None else x.shape[1:3]
        return tf.image.resize(cam, sides, method="bilinear")[..., 0]
    return gradcam


def to_maps(attributions, image_shape):
    """Attributions `[N, ...]` as maps `[N, H, W]`: reshaped to `image_shape`, summed over channels."""
    values = np.asarray(attributions, dtype=np.float32)
    values = values.reshape((len(values),) + tuple(image_shape))
    return values.sum(axis=3) if values.ndim == 4 else values


def fixed_scale(maps):
    """The colour scale of a method: `SCALE_PERCENTILE` of |maps| (finite values), else their max, else 1."""
    values = np.abs(maps[np.isfinite(maps)])
    for scale in (np.percentile(values, SCALE_PERCENTILE) if values.size else 0.0,
                  values.max() if values.size else 0.0):
        if scale > 0:
            return float(scale)
    return 1.0


def _grey(images):
    """`[N, H, W]` in 0..1 as RGB `[N, H, W, 3]`."""
    return np.repeat(np.clip(np.nan_to_num(images), 0, 1)[..., None], 3, axis=3)


def diverging(values, scale):
    """Signed maps `[N, H, W]` as RGB: white 0, red positive, blue negative, full colour at ±`scale`."""
    v = np.clip(np.nan_to_num(values / scale), -1, 1)
    pos, neg = np.maximum(v, 0), np.maximum(-v, 0)
    return np.stack([1 - neg, 1 - pos - neg, 1 - pos], axis=3)


def grid(source, baseline, saliency, delta, overlay, scale):
    """The five panels of each image side by side, one row per image.

    Args:
      source, baseline: Images `[N, H, W]` in 0..1.
      saliency, delta, overlay: Signed maps `[N, H, W]`, coloured on the scale `±scale`.
      scale: The colour scale (fixed for a method): full colour at +-scale.

    Returns:
      float32 `[rows, cols, 3]` in 0..1.
    """
    panels = [_grey(source), _grey(baseline)] + [diverging(m, scale) for m in (saliency, delta, overlay)]
    n, h, w = source.shape
    k = max(1, MIN_PANEL_SIDE // max(h, w))
    # [N, 5, H, W, 3] -> each panel enlarged k times (nearest neighbour) in a grey canvas with gaps.
    cells = np.stack(panels, axis=1).astype(np.float32).repeat(k, axis=2).repeat(k, axis=3)
    step_y, step_x = h * k + _GAP, w * k + _GAP
    canvas = np.full((n * step_y - _GAP, len(panels) * step_x - _GAP, 3), 0.5, np.float32)
    for i in range(n):
        for j in range(len(panels)):
            canvas[i * step_y:i * step_y + h * k, j * step_x:j * step_x + w * k] = cells[i, j]
    return canvas
