"""Which model output the probe labels belong to, and how it becomes a predicted class.

A rule is `"argmax"` (several units: softmax, logits or sigmoids all give the
class of the largest value), `"threshold 0.5"` (one probability unit) or
`"threshold 0"` (one logit unit, e.g. `Dense(1)` trained with
`BinaryCrossentropy(from_logits=True)`).
"""

import logging

import numpy as np

logger = logging.getLogger(__name__)

# Losses of one unit that regress the 0/1 labels themselves: the boundary is 0.5.
_PROBABILITY_LOSSES = ("binary_crossentropy", "bce", "binary_focal_crossentropy")
_REGRESSION_LOSSES = ("mse", "mae", "mean_squared_error", "mean_absolute_error", "huber", "log_cosh")


def check_from_logits(from_logits):
    if from_logits is not None and not isinstance(from_logits, bool):
        raise ValueError(
            "The 'from_logits' parameter must be True, False or None (read from the model). "
            "Got %r instead." % (from_logits,)
        )
    return from_logits


def check_output(output):
    if output is not None and not isinstance(output, str):
        raise ValueError(
            "The 'output' parameter must be the name of a model output (a str) or None. "
            "Got %r instead." % (output,)
        )
    return output


def choose_output(names, widths, num_classes, requested=None, warn=True):
    """Index of the output the labels belong to.

    Args:
      names: The model's output names, in the order of its flat outputs.
      widths: Units of each output (its last axis).
      num_classes: Number of classes of the probe.
      requested: The user's choice, or None: the only output whose width
        fits the classes (`num_classes` units, or one unit for two classes),
        else the first (with a warning if `warn`).

    Raises:
      ValueError: if `requested` is not one of `names`.
    """
    if requested is not None:
        if requested not in names:
            raise ValueError(
                "The 'output' parameter must name an output of the model, one of %s. "
                "Got %r instead." % (names, requested)
            )
        return names.index(requested)
    if len(names) == 1:
        return 0
    fitting = [i for i, w in enumerate(widths) if w == num_classes or (w == 1 and num_classes <= 2)]
    if len(fitting) == 1:
        return fitting[0]
    if warn:
        logger.warning(
            "nnviz_tb: the model has %d outputs %s and the labels (%d classes) fit %s; the "
            "predictions are those of %r. Pass output=<name> to choose another.",
            len(names), names, num_classes, "none of them" if not fitting else "several",
            names[0],
        )
    return 0


def choose_rule(width, layer, loss, from_logits=None):
    """The rule of an output with `width` units, made by `layer`, trained with `loss`.

    For one unit: `from_logits` if given, else the loss's `from_logits`
    (Keras' binary cross-entropy and focal losses have one), else 0.5 for
    regression losses and sigmoid outputs, else 0 (a linear or tanh unit).
    """
    if width != 1:
        return "argmax"
    if from_logits is None:
        from_logits = getattr(loss, "from_logits", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", "") or ""
    if from_logits is None and name in _PROBABILITY_LOSSES:
        from_logits = False
    if from_logits is None:
        activation = _activation_name(layer)
        from_logits = not (name in _REGRESSION_LOSSES or activation not in ("linear", "tanh"))
    return "threshold 0" if from_logits else "threshold 0.5"


def _activation_name(layer):
    """Name of the activation applied last by `layer` (looking inside nested models)."""
    while hasattr(layer, "layers") and getattr(layer, "outputs", None):
        layer = layer.outputs[0]._keras_history[0]
    activation = getattr(layer, "activation", None)
    return "linear" if activation is None else getattr(activation, "__name__", str(activation))


def loss_of(loss, names, index):
    """The compiled loss of output `index` (from a single, list or dict loss)."""
    if isinstance(loss, dict):
        return loss.get(names[index])
    if isinstance(loss, (list, tuple)):
        return loss[index] if index < len(loss) else None
    return loss


def predicted_class(output, rule):
    """int32 `[N]` classes of an output `[N, ...]` under `rule`."""
    output = np.asarray(output, dtype=np.float32).reshape(len(output), -1)
    if rule == "argmax":
        return output.argmax(axis=1).astype(np.int32)
    return (output[:, 0] > float(rule.split()[1])).astype(np.int32)
