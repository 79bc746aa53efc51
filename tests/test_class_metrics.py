"""Per-class precision, recall and F1 (ActivationLogger's probe, ConfusionMatrixLogger) against scikit-learn."""

import os

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

import nnviz_tb
from conftest import digits
from event_reading import read_run
from nnviz_tb import class_metrics, metadata
from test_steps import make_model, tensors

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def expected_scalars(labels, predictions, names):
    """The scalars scikit-learn gives: `{tag: value}`."""
    per_class = precision_recall_fscore_support(labels, predictions, labels=range(len(names)), zero_division=0)
    macro = precision_recall_fscore_support(labels, predictions, average="macro", zero_division=0)
    expected = {}
    for i, metric in enumerate(metadata.CLASS_METRICS):
        expected[metadata.macro_metric_tag(metric)] = macro[i]
        expected.update((metadata.class_metric_tag(metric, name), v) for name, v in zip(names, per_class[i]))
    return expected


def written_scalars(run_tensors, step):
    """`{tag: value}` of the per-class and macro scalars at `step`."""
    groups = metadata.CLASS_METRICS + ("macro_avg",)
    return {tag: float(values[step]) for tag, values in run_tensors.items() if tag.split("/")[0] in groups}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A 3-epoch fit on 1,200 digits with both loggers; the last 300 digits are the validation data,
    the first 200 the probe."""
    x, y = digits()
    log_dir = str(tmp_path_factory.mktemp("class_metrics") / "run")
    model = make_model()
    validation = (x[-300:], y[-300:])
    callbacks = [nnviz_tb.ActivationLogger(log_dir, probe=(x[:200], y[:200]), class_names=NAMES),
                 nnviz_tb.ConfusionMatrixLogger(log_dir, validation, class_names=NAMES),
                 nnviz_tb.TensorBoard(log_dir)]
    model.fit(x[:1200], y[:1200], epochs=3, batch_size=64, validation_data=validation, verbose=0,
              callbacks=callbacks)
    return model, log_dir, (x[:200], y[:200]), validation


def test_probe_metrics_equal_scikit_learn(fitted):
    _, log_dir, (_, labels), _ = fitted
    run, scalars = read_run(log_dir), tensors(log_dir)
    for step in (0, 1, 2, 3):
        predictions = metadata.decode_array(run[metadata.predictions_tag(step)]["steps"][step][0])
        expected = expected_scalars(labels, predictions, NAMES)
        written = written_scalars(scalars, step)
        assert written.keys() == expected.keys() and len(written) == 33
        for tag, value in expected.items():
            assert written[tag] == pytest.approx(value, abs=1e-6), (step, tag)
    assert written_scalars(scalars, 3) != written_scalars(scalars, 0)  # Training changed them.


def test_validation_metrics_and_confusion_matrix(fitted):
    model, log_dir, _, (x_val, y_val) = fitted
    val_dir = os.path.join(log_dir, "validation")
    run, scalars = read_run(val_dir), tensors(val_dir)
    accuracy = scalars["epoch_accuracy"]  # Keras' own, from nnviz_tb.TensorBoard in the same run.
    for step in (0, 1, 2, 3):
        summary = run[metadata.confusion_tag(step)]
        assert summary["content"]["class_names"] == NAMES and summary["content"]["num_points"] == 300
        counts = metadata.decode_array(summary["steps"][step][0])
        assert counts.shape == (10, 10) and counts.sum() == 300
        # The matrix's points, as label/prediction pairs, give the written scalars.
        pairs = np.argwhere(np.ones((10, 10)))
        labels, predictions = np.repeat(pairs[:, 0], counts.ravel()), np.repeat(pairs[:, 1], counts.ravel())
        for tag, value in expected_scalars(labels, predictions, NAMES).items():
            assert float(scalars[tag][step]) == pytest.approx(value, abs=1e-6), (step, tag)
        if step:  # The same moment as Keras' validation accuracy at that step.
            assert np.trace(counts) / 300 == pytest.approx(float(accuracy[step]), abs=1e-6)
    final = model.predict(x_val, verbose=0).argmax(axis=1)
    np.testing.assert_array_equal(
        metadata.decode_array(run[metadata.confusion_tag(3)]["steps"][3][0]),
        confusion_matrix(y_val, final, labels=range(10)))


def test_many_classes_get_macro_averages_only():
    labels = np.arange(300) % 150
    values = class_metrics.scalars(labels, (labels + 1) % 150, [str(i) for i in range(150)])
    assert sorted(values) == sorted(metadata.macro_metric_tag(m) for m in metadata.CLASS_METRICS)
    assert values[metadata.macro_metric_tag("recall")] == 0.0
    few = class_metrics.scalars(labels[:20] % 10, labels[:20] % 10, NAMES)
    assert len(few) == 33 and all(v == 1.0 for v in few.values())


@pytest.mark.parametrize("args, message", [
    ((None, "x"), r"The 'log_dir' parameter must be a path\. Got None instead\."),
    (("logs", np.zeros((4, 64))), r"The 'validation_data' parameter must be a tuple \(x, labels\) of arrays\. "
                                  r"Got 'ndarray' instead\."),
    (("logs", (np.zeros((4, 64)), np.zeros(3))), r"The validation inputs and labels must have the same length\. "
                                                r"Got 4 inputs and 3 labels instead\."),
    (("logs", (np.zeros((4, 64)), np.array([0, 1, 2, -1]))), r"The validation labels must be >= 0\. Got -1\."),
])
def test_bad_data_raises(args, message):
    with pytest.raises(ValueError, match=message):
        nnviz_tb.ConfusionMatrixLogger(*args)


@pytest.mark.parametrize("kwargs, message", [
    ({"class_names": ["a", "b"]}, r"The 'class_names' parameter must name every class: the labels go up to 3"),
    ({"every_n_epochs": 0}, r"The 'every_n_epochs' parameter must be an integer >= 1. Got 0 instead\."),
    ({"batch_size": "64"}, r"The 'batch_size' parameter must be an integer >= 1. Got '64' instead\."),
])
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nnviz_tb.ConfusionMatrixLogger("logs", (np.zeros((4, 64)), np.arange(4)), **kwargs)
