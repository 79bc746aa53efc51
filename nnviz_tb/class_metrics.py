"""Per-class precision, recall and F1 of predicted classes, as scikit-learn computes them.

NumPy only. Undefined ratios (no point predicted as a class, or none of it)
are 0, as with scikit-learn's `zero_division=0`; macro averages are over the
classes that occur among the labels or the predictions (scikit-learn's
default `labels`). Predictions outside `0..C-1` count as misses.
"""

import numpy as np

from nnviz_tb import metadata

# Most classes whose metrics get charts of their own; beyond, only the macro averages.
MAX_CLASS_CHARTS = 100


def confusion_matrix(labels, predictions, num_classes):
    """int32 `[C, C]` counts of `[N]` labels (rows) against `[N]` predicted classes (columns)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    inside = (predictions >= 0) & (predictions < num_classes)
    cells = labels[inside].astype(np.int64) * num_classes + predictions[inside]
    return np.bincount(cells, minlength=num_classes**2).reshape(num_classes, num_classes).astype(np.int32)


def scores(labels, predictions, num_classes):
    """`({metric: float [C]}, {metric: macro average})` for the `metadata.CLASS_METRICS`."""
    support = np.bincount(np.asarray(labels), minlength=num_classes)[:num_classes]
    return confusion_scores(confusion_matrix(labels, predictions, num_classes), support)


def confusion_scores(confusion, support=None):
    """`scores` of an int `[C, C]` confusion matrix (rows: true classes).

    `support`: `[C]` points of each true class; defaults to the row sums,
    which miss the points predicted outside `0..C-1` (the matrix has no
    column for them).
    """
    confusion = np.asarray(confusion)
    hits = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1) if support is None else support
    predicted = confusion.sum(axis=0)
    per_class = {
        "precision": _ratio(hits, predicted),
        "recall": _ratio(hits, support),
        "f1": _ratio(2 * hits, predicted + support),
    }
    present = (support > 0) | (predicted > 0)
    macro = {metric: float(values[present].mean()) if present.any() else 0.0 for metric, values in per_class.items()}
    return per_class, macro


def scalars(labels, predictions, class_names):
    """`{Scalars-tab tag: value}` of the macro averages and, for at most `MAX_CLASS_CHARTS`
    classes, of every class's metrics."""
    per_class, macro = scores(labels, predictions, len(class_names))
    values = {metadata.macro_metric_tag(metric): value for metric, value in macro.items()}
    for metric, column in per_class.items() if len(class_names) <= MAX_CLASS_CHARTS else ():
        values.update((metadata.class_metric_tag(metric, name), float(v)) for name, v in zip(class_names, column))
    return values


def _ratio(numerator, denominator):
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)
