"""The `confusion` route: the validation data's confusion matrix and per-class metrics, against scikit-learn."""

import os

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

import nnviz_tb
from conftest import digits, train_digits_mlp
from damaged_runs import Summary, content, write_run
from nnviz_tb import metadata
from test_plugin_routes import get_json, make_client
from test_steps import tensors

VALIDATION = 300


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """`(model, log dir, validation labels)`: run `mlp` (3 epochs) whose validation run `mlp/validation`
    holds epochs 0, 2 and 3 (every 2nd, and the last)."""
    x, y = digits()
    root = tmp_path_factory.mktemp("confusion")
    log_dir = str(root / "mlp")
    logger = nnviz_tb.ConfusionMatrixLogger(log_dir, (x[-VALIDATION:], y[-VALIDATION:]), every_n_epochs=2)
    model, _ = train_digits_mlp(log_dir, probe_size=100, callbacks=[logger])
    return model, str(root), y[-VALIDATION:]


@pytest.fixture(scope="module")
def client(fitted):
    return make_client(fitted[1])[0]


def test_numbers_equal_scikit_learn(fitted, client):
    model, root, labels = fitted
    status, body = get_json(client, "/confusion?run=mlp")
    assert status == 200
    assert body["run"] == "mlp" and body["source_run"] == "mlp/validation"
    assert body["epoch"] == 3 and body["epochs"] == [0, 2, 3]
    assert body["class_names"] == [str(c) for c in range(10)] and body["num_points"] == VALIDATION
    predictions = model.predict(digits()[0][-VALIDATION:], verbose=0).argmax(axis=1)
    np.testing.assert_array_equal(body["counts"], confusion_matrix(labels, predictions, labels=range(10)))
    per_class = precision_recall_fscore_support(labels, predictions, labels=range(10), zero_division=0)
    macro = precision_recall_fscore_support(labels, predictions, average="macro", zero_division=0)
    for i, metric in enumerate(metadata.CLASS_METRICS):
        np.testing.assert_allclose(body[metric], per_class[i], atol=1e-12)
        assert body["macro"][metric] == pytest.approx(macro[i], abs=1e-12)
    assert body["support"] == per_class[3].tolist()
    # Every recorded epoch's numbers are the scalars the logger wrote for it.
    scalars = tensors(os.path.join(root, "mlp", "validation"))
    for epoch in (0, 2):
        _, answer = get_json(client, "/confusion?run=mlp/validation&epoch=%d" % epoch)
        assert answer["source_run"] == "mlp/validation" and answer["epoch"] == epoch
        assert answer["recall"][4] == pytest.approx(float(scalars[metadata.class_metric_tag("recall", "4")][epoch]))
        assert answer["macro"]["f1"] == pytest.approx(float(scalars[metadata.macro_metric_tag("f1")][epoch]))


def test_the_nearest_recorded_epoch_at_or_before_the_one_asked(client):
    for asked, shown in ((0, 0), (1, 0), (2, 2), (3, 3), (99, 3)):
        status, body = get_json(client, "/confusion?run=mlp&epoch=%d" % asked)
        assert status == 200 and body["epoch"] == shown, asked
    assert get_json(client, "/confusion?run=mlp&epoch=1")[1]["counts"] == get_json(
        client, "/confusion?run=mlp&epoch=0")[1]["counts"]


def test_runs_say_where_the_validation_matrices_are(client):
    _, runs = get_json(client, "/runs")
    assert runs["mlp"]["confusion"] == {"run": "mlp/validation", "epochs": [0, 2, 3]}
    assert runs["mlp/validation"]["confusion"] == {"run": "mlp/validation", "epochs": [0, 2, 3]}


@pytest.mark.parametrize("query, message", [
    ("epoch=-1", "Parameter 'epoch' must be a non-negative integer; got '-1'."),
    ("epoch=two", "Parameter 'epoch' must be a non-negative integer; got 'two'."),
    ("epoch=1.5", "Parameter 'epoch' must be a non-negative integer; got '1.5'."),
    ("", "Missing parameter 'run'."),
])
def test_bad_parameters_are_400(client, query, message):
    status, body = get_json(client, "/confusion?run=mlp&" + query if query else "/confusion")
    assert (status, body) == (400, {"error": "Invalid argument: " + message})


def _matrix(epoch, blob, class_names=("a", "b"), **fields):
    fields = dict({"epoch": epoch, "class_names": list(class_names), "num_points": 3}, **fields)
    return Summary(metadata.confusion_tag(epoch), epoch, content(metadata.KIND_CONFUSION, **fields), [blob])


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """Runs without validation matrices (`probe_only`), with one written to the run itself
    (`flat`, epochs 1 and 2) and with damaged ones (`bad/validation`, epochs 0..4)."""
    root = tmp_path_factory.mktemp("confusion_damaged")
    good = metadata.encode_array(np.array([[2, 0], [1, 0]], np.int32))
    write_run(root / "flat", [_matrix(1, good), _matrix(2, good)])
    write_run(root / "probe_only", [Summary(metadata.PROBE_TAG, 0, content(metadata.KIND_PROBE),
                                            [metadata.encode_json({}), metadata.encode_array(np.arange(3))])])
    write_run(root / "bad" / "validation", [
        _matrix(0, b"not an array"),
        _matrix(1, metadata.encode_array(np.ones((3, 3), np.int32))),  # 2 class names.
        _matrix(2, metadata.encode_array(np.array([[1, -1], [0, 3]], np.int32))),
        _matrix(3, metadata.encode_array(np.ones((2, 2), np.float32))),
        _matrix(4, good, class_names=()),
    ])
    return make_client(str(root))[0]


def test_a_run_holding_its_own_matrices(damaged):
    status, body = get_json(damaged, "/confusion?run=flat")
    assert status == 200 and body["source_run"] == "flat" and body["epochs"] == [1, 2]
    assert body["recall"] == [1.0, 0.0] and body["precision"] == [pytest.approx(2 / 3), 0.0]
    assert body["f1"] == [pytest.approx(0.8), 0.0] and body["support"] == [2, 1]
    assert body["macro"] == {"precision": pytest.approx(1 / 3), "recall": 0.5, "f1": pytest.approx(0.4)}


@pytest.mark.parametrize("query, message", [
    ("run=nowhere", "Unknown run: 'nowhere'"),
    ("run=probe_only", "Run 'probe_only' has no confusion matrices of validation data (ConfusionMatrixLogger "
                       "writes them to the run 'probe_only/validation')."),
    ("run=flat&epoch=0", "Run 'flat' has no confusion matrix at or before epoch 0; the first is of epoch 1."),
])
def test_unknown_runs_and_epochs_are_404(damaged, query, message):
    assert get_json(damaged, "/confusion?" + query) == (404, {"error": "Not found: " + message})


@pytest.mark.parametrize("epoch, details", [
    (0, "Invalid nnviz array payload"),
    (1, "the confusion matrix must be 2 x 2 integers (one row and column per class name); got int32 [3, 3]"),
    (2, "the confusion matrix's counts must be >= 0; got -1"),
    (3, "the confusion matrix must be 2 x 2 integers (one row and column per class name); got float32 [2, 2]"),
    (4, "the confusion matrix must be 0 x 0 integers (one row and column per class name); got int32 [2, 2]"),
])
def test_a_damaged_matrix_is_422_naming_run_and_tag(damaged, epoch, details):
    status, body = get_json(damaged, "/confusion?run=bad&epoch=%d" % epoch)
    assert status == 422, body
    assert body["error"].startswith("Corrupt data: the summary %r of run 'bad/validation' cannot be read: "
                                    % metadata.confusion_tag(epoch)), body
    assert details in body["error"]
