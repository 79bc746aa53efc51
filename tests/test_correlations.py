"""Layer correlations: the measures, CorrelationLogger's summaries and their routes."""

import functools
import json
import os

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.util import tensor_util

import nnviz_tb
from nnviz_tb import augment, metadata, reader
from nnviz_tb.analysis import correlation
from nnviz_tb.correlation_summaries import CorrelationSummaries
from nnviz_tb.summary import NnvizWriter
from conftest import digits, train_digits_mlp
from event_reading import read_run
from test_examples import MNIST_DIR, run_example
from test_plugin_routes import ROUTE, make_client, write_synthetic_run

EPOCHS = 4


def reference_cka(x, y):
    """Linear CKA through the centred Gram matrices (Kornblith et al., eq. for HSIC)."""
    h = np.eye(len(x)) - 1.0 / len(x)
    k, l = h @ x @ x.T @ h, h @ y @ y.T @ h
    return np.sum(k * l) / np.sqrt(np.sum(k * k) * np.sum(l * l))


def reference_pearson(x, y):
    """Best-match |r| from np.corrcoef, constant columns dropped first."""
    x, y = x[:, np.ptp(x, axis=0) > 0], y[:, np.ptp(y, axis=0) > 0]
    r = np.abs(np.corrcoef(x, y, rowvar=False)[: x.shape[1], x.shape[1] :])
    return (r.max(axis=1).mean() + r.max(axis=0).mean()) / 2


def test_measures_equal_a_numpy_reference(rng):
    x = rng.normal(size=(300, 12))
    x[:, 4] = 2.5  # A dead feature: left out, not counted as 0.
    y = np.tanh(x[:, :7] @ rng.normal(size=(7, 5))) + 0.3 * rng.normal(size=(300, 5))
    scores = correlation.cross_layer_scores([x, y])
    assert scores["cka"][0, 1] == pytest.approx(reference_cka(x, y), rel=1e-5)
    assert scores["pearson"][0, 1] == pytest.approx(reference_pearson(x, y), rel=1e-5)
    np.testing.assert_allclose(scores["cka"], scores["cka"].T)
    matrix, dead, indices = correlation.feature_correlations(x, max_features=256)
    expected = np.corrcoef(x[:, ~dead], rowvar=False)
    np.testing.assert_allclose(matrix[np.ix_(~dead, ~dead)], expected, atol=1e-5)
    assert dead.tolist() == [i == 4 for i in range(12)] and np.isnan(matrix[4]).all()


def test_sample_correlations_equal_a_numpy_reference(rng):
    x = rng.normal(size=(80, 6))
    x -= x.mean(axis=0)
    x[5] += 0.25 - x[5] * 80 / 79  # Its centred pattern (the means move too) is constant: flat.
    x[:, 2] = 1.0  # Dead: left out.
    indices = np.array([7, 5, 3, 0])
    matrix, flat = correlation.sample_correlations(x, indices)
    centred = (x - x.mean(axis=0))[:, [0, 1, 3, 4, 5]]
    keep = indices[~flat]
    np.testing.assert_allclose(matrix[np.ix_(~flat, ~flat)], np.corrcoef(centred[keep]), atol=1e-5)
    assert flat.tolist() == [False, True, False, False] and np.isnan(matrix[1]).all()


def test_identical_layers_give_one_and_independent_ones_about_zero(rng):
    x, independent = rng.normal(size=(4000, 16)), rng.normal(size=(4000, 24))
    scores = correlation.cross_layer_scores([x, x.copy(), independent])
    for measure in correlation.MEASURES:
        np.testing.assert_allclose(np.diagonal(scores[measure]), 1, atol=1e-5)
        assert scores[measure][0, 1] == pytest.approx(1, abs=1e-5)
        assert scores[measure][0, 2] < 0.07  # Chance level: about sqrt(2 ln(24) / 4000) for |r|.


def test_a_layer_without_live_features_has_undefined_scores(rng):
    x, dead = rng.normal(size=(50, 4)), np.zeros((50, 3))
    scores = correlation.cross_layer_scores([x, dead, x], ["cka"])
    assert np.isnan(scores["cka"][1]).all() and np.isnan(scores["cka"][:, 1]).all()
    assert correlation.mean_off_diagonal(scores["cka"]) == pytest.approx(1)
    assert correlation.mean_off_diagonal(scores["cka"][:2, :2]) is None


def test_sampling_rules():
    assert correlation.evenly_spaced(10, 4).tolist() == [0, 3, 6, 9]
    assert correlation.evenly_spaced(3, 4).tolist() == [0, 1, 2]
    labels = np.array([2, 0, 2, 1, 0, 2, 2, 0, 2])
    chosen = correlation.class_balanced(labels, 5)
    assert labels[chosen].tolist() == [0, 0, 1, 2, 2]
    assert chosen.tolist() == [1, 4, 3, 0, 2]  # Classes take turns; probe order within a class.


def test_invariance_needs_variance_over_the_probe():
    variances = np.array([[0.0, 0.001, 0.5, 0.0, 1.0], [0.0, 1.0, 1.0, 2.0, 0.0]])
    invariant, dead, ratio = correlation.invariant_features(variances, threshold=0.01)
    assert invariant.tolist() == [False, True, False, True, False]
    assert dead.tolist() == [True, False, False, False, False]
    assert np.isnan(ratio[[0, 4]]).all() and ratio[1] == pytest.approx(0.001)


def test_default_augmentation_moves_images_and_is_reproducible():
    image = np.zeros((28, 28), np.float32)
    image[10:18, 12:16] = 1.0
    copies = augment.augmented_copies(image.ravel(), augment.RandomAugmentation(), 20, seed=3)
    assert copies.shape == (20, 784) and copies.dtype == np.float32
    assert np.abs(copies - image.ravel()).mean() > 0.05
    again = augment.augmented_copies(image.ravel(), augment.RandomAugmentation(), 20, seed=3)
    np.testing.assert_array_equal(copies, again)
    with pytest.raises(ValueError, match="shape"):
        augment.augmented_copies(image, lambda x, rng: x[:3], 2, 0)


@pytest.fixture(scope="module")
def trained_logdir(tmp_path_factory):
    """`corr`: digits MLP, CorrelationLogger (epochs 0..4); `act`: activations only."""
    root = tmp_path_factory.mktemp("correlations")
    train_digits_mlp(str(root / "corr"), epochs=EPOCHS, probe_size=400, logger_class="CorrelationLogger",
                     max_features=20, max_samples=100, num_augmentations=50)
    write_synthetic_run(root / "act", epochs=1)
    return root


def _blobs(events, tag, step):
    return [metadata.decode_array(b) for b in events[tag]["steps"][step]]


def test_callback_writes_every_epoch_from_zero(trained_logdir):
    events = read_run(str(trained_logdir / "corr"))
    content = events[metadata.correlations_tag(0)]["content"]
    assert content["layers"] == ["hidden1", "hidden2", "output"] and content["measures"] == ["cka", "pearson"]
    for epoch in range(EPOCHS + 1):
        cka, pearson = _blobs(events, metadata.correlations_tag(epoch), epoch)
        assert cka.shape == pearson.shape == (3, 3)
        assert metadata.augmentation_variance_tag(epoch) in events
        assert metadata.feature_correlations_tag("hidden2", epoch) in events
    features = _blobs(events, metadata.feature_correlations_tag("hidden1", 0), 0)
    assert features[metadata.FEATURE_MATRIX].shape == (20, 20)  # 32 features, at most 20 kept.
    assert features[metadata.FEATURE_INDICES][[0, -1]].tolist() == [0, 31]
    scalars = plugin_event_accumulator.EventAccumulator(str(trained_logdir / "corr"))
    scalars.Reload()
    means = [tensor_util.make_ndarray(e.tensor_proto) for e in scalars.Tensors("correlation/mean_cka")]
    assert len(means) == EPOCHS + 1 and all(0 < m <= 1 for m in means)


def test_trained_layer_correlates_within_classes(trained_logdir):
    events = read_run(str(trained_logdir / "corr"))
    blobs = _blobs(events, metadata.feature_correlations_tag("hidden2", EPOCHS), EPOCHS)
    matrix, labels = blobs[metadata.SAMPLE_MATRIX].astype(float), blobs[metadata.SAMPLE_LABELS]
    assert matrix.shape == (100, 100) and (np.diff(labels) >= 0).all()  # Ordered by class.
    same = labels[:, None] == labels[None, :]
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    within, between = np.nanmean(matrix[same & off_diagonal]), np.nanmean(matrix[~same])
    assert within > 0.3 and between < 0.1 and within - between > 0.3


def test_reader_returns_the_recorded_arrays(trained_logdir):
    events = read_run(str(trained_logdir / "corr"))
    run = reader.read_correlations(str(trained_logdir / "corr"))
    assert sorted(run.scores) == sorted(run.augmentation_variance) == list(range(EPOCHS + 1))
    assert run.layers[EPOCHS] == ["hidden1", "hidden2", "output"]
    cka, pearson = _blobs(events, metadata.correlations_tag(EPOCHS), EPOCHS)
    np.testing.assert_array_equal(run.scores[EPOCHS]["cka"], cka)
    np.testing.assert_array_equal(run.scores[EPOCHS]["pearson"], pearson)
    blobs = _blobs(events, metadata.feature_correlations_tag("hidden2", 1), 1)
    matrices = run.matrices["hidden2"][1]
    np.testing.assert_array_equal(matrices["samples"], blobs[metadata.SAMPLE_MATRIX])
    np.testing.assert_array_equal(matrices["feature_indices"], blobs[metadata.FEATURE_INDICES])
    assert matrices["sample_labels"].shape == (100,)
    variance = run.augmentation_variance[0]
    assert set(variance) <= set(run.layers[0]) and variance["hidden1"].shape == (2, 32)
    with pytest.raises(ValueError, match="No nnviz correlation summary"):
        reader.read_correlations(str(trained_logdir / "act"))


def test_custom_augmentation_and_schedule(tmp_path):
    """Identity "augmentations" leave every live feature invariant; every 2nd epoch plus the last."""
    priority = os.getpriority(os.PRIO_PROCESS, 0)  # This thread's, on Linux.
    train_digits_mlp(str(tmp_path), epochs=3, probe_size=100, logger_class="CorrelationLogger",
                     every_n_epochs=2, augment=lambda x, rng: x, num_augmentations=5,
                     matrix_layers=["hidden2"], measures=["pearson"])
    assert os.getpriority(os.PRIO_PROCESS, 0) == priority  # Only the writer thread yields the CPU.
    events = read_run(str(tmp_path))
    assert sorted(e["content"]["epoch"] for e in events.values()) == [0, 0, 0, 2, 2, 2, 3, 3, 3]
    assert events[metadata.augmentation_variance_tag(3)]["content"]["augmentation"] == "<lambda>"
    for variances in _blobs(events, metadata.augmentation_variance_tag(3), 3):
        invariant, dead, _ = correlation.invariant_features(variances, 0.01)
        assert (invariant | dead).all()


def test_wide_conv_layers_are_reduced_and_the_choice_recorded(tmp_path):
    x, y = digits()
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(24, 3, padding="same", activation="relu", name="conv"),
        keras.layers.GlobalAveragePooling2D(name="pool"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.CorrelationLogger(str(tmp_path), probe=(x[:60].reshape(-1, 8, 8, 1), y[:60]),
                                        reduction="flatten", max_dim=200, num_augmentations=4)
    model.fit(x[:60].reshape(-1, 8, 8, 1), y[:60], epochs=1, verbose=0, callbacks=[logger])
    content = read_run(str(tmp_path))[metadata.correlations_tag(1)]["content"]
    assert content["dims"][0] <= 200 and content["reductions"][0].startswith("avg_pool_")


@pytest.mark.parametrize(
    "args, message",
    [
        ({"log_dir": 3}, "log_dir"),
        ({"probe": ([[1.0]], [0, 1])}, "probe"),
        ({"layers": "hidden1"}, "layers"),
        ({"measures": "cka"}, "measures"),
        ({"measures": ["cka", "spearman"]}, "measures"),
        ({"every_n_epochs": 0}, "every_n_epochs"),
        ({"max_features": 0}, "max_features"),
        ({"max_samples": 2.5}, "max_samples"),
        ({"num_augmentations": 1}, "num_augmentations"),
        ({"augment": "flip"}, "augment"),
        ({"augment_index": 500}, "augment_index"),
        ({"invariance_threshold": 0}, "invariance_threshold"),
        ({"augment": lambda x, rng: x[:5]}, "shape"),
        ({"reduction": "sum"}, "reduction"),
    ],
)
def test_invalid_arguments_raise_value_errors(tmp_path, args, message):
    x, y = digits()
    args = dict({"log_dir": str(tmp_path), "probe": (x[:50], y[:50])}, **args)
    with pytest.raises(ValueError, match=message):
        nnviz_tb.CorrelationLogger(**args)


def test_unknown_matrix_layer_fails_before_training(tmp_path):
    with pytest.raises(ValueError, match="matrix_layers"):
        train_digits_mlp(str(tmp_path), epochs=1, probe_size=50, logger_class="CorrelationLogger",
                         matrix_layers=["nope"], num_augmentations=0)
    assert not list(tmp_path.glob("events*"))


@pytest.fixture(scope="module")
def client(trained_logdir):
    return make_client(str(trained_logdir))[0]


def get(client, path):
    response = client.get(ROUTE + path)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.status_code, json.loads(response.get_data())


def test_runs_list_what_was_recorded(client):
    status, runs = get(client, "/runs")
    assert status == 200 and runs["act"]["correlations"] is None
    summary = runs["corr"]["correlations"]
    assert summary["epochs"] == list(range(EPOCHS + 1))
    assert summary["layers"] == summary["matrix_layers"] == ["hidden1", "hidden2", "output"]
    assert summary["measures"] == ["cka", "pearson"]
    assert summary["matrix_epochs"]["output"] == summary["augmentation_epochs"] == list(range(EPOCHS + 1))


@pytest.mark.parametrize("measure", ["cka", "pearson"])
def test_correlations_route(client, measure):
    status, body = get(client, "/correlations?run=corr&measure=" + measure)
    assert status == 200 and body["measure"] == measure
    assert body["layers"] == ["hidden1", "hidden2", "output"] and body["dims"] == [32, 16, 10]
    assert body["epochs"] == list(range(EPOCHS + 1))
    matrices = np.array(body["matrices"], dtype=float)
    assert matrices.shape == (EPOCHS + 1, 3, 3) and np.allclose(matrices, matrices.transpose(0, 2, 1))
    upper = matrices[:, [0, 0, 1], [1, 2, 2]]
    np.testing.assert_allclose(body["mean"], upper.mean(axis=1), atol=1e-3)
    assert np.array(body["live_features"]).shape == (EPOCHS + 1, 3)


@pytest.mark.parametrize("over, side", [("features", 16), ("samples", 100)])
def test_feature_correlations_route(client, over, side):
    status, body = get(client, "/feature_correlations?run=corr&layer=hidden2&epoch=2&over=" + over)
    assert status == 200 and (body["layer"], body["epoch"], body["over"]) == ("hidden2", 2, over)
    assert len(body["matrix"]) == len(body["indices"]) == len(body["dead"]) == side
    for row, dead in zip(body["matrix"], body["dead"]):
        assert len(row) == side and (row.count(None) == side) == dead
    assert body["class_names"] == [str(c) for c in range(10)]
    assert (body["labels"] is None) == (over == "features")
    assert body["total"] == (16 if over == "features" else 400)
    assert body["sampling"] == ("evenly spaced" if over == "features" else "balanced across classes")


def test_augmentation_variance_route(client):
    status, body = get(client, "/augmentation_variance?run=corr&epoch=0")
    assert status == 200 and body["num_augmentations"] == 50 and body["input_index"] == 0
    assert [layer["name"] for layer in body["layers"]] == ["hidden1", "hidden2", "output"]
    for layer, dim in zip(body["layers"], [32, 16, 10]):
        for key in ("variance", "probe_variance", "relative_variance", "invariant", "dead"):
            assert len(layer[key]) == dim
        assert all(v >= 0 for v in layer["variance"])


def test_undefined_scores_are_null_not_nan(tmp_path):
    """A layer that is constant over the probe set: no score, and valid JSON."""
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2
    values = {"live": rng.normal(size=(40, 3)), "dead": np.zeros((40, 2))}
    augmented = {"live": rng.normal(size=(6, 3)), "dead": np.zeros((6, 2))}
    summaries = CorrelationSummaries(
        layers=["live", "dead"], dims=[3, 2], columns=[None, None], reductions=["none"] * 2, measures=("cka",),
        matrix_layers=["dead"], labels=labels, class_names=["a", "b"], max_features=8, max_samples=8,
        augmentation="test", augmentation_note=None, input_index=0, num_augmentations=6, threshold=0.01,
    )
    writer = NnvizWriter(str(tmp_path / "run"))
    writer.submit(functools.partial(summaries.write, 0, values, augmented))
    writer.close()
    client = make_client(str(tmp_path))[0]
    _, body = get(client, "/correlations?run=run")
    assert body["matrices"][0] == [[1.0, None], [None, None]] and body["mean"] == [None]
    _, body = get(client, "/feature_correlations?run=run&layer=dead&epoch=0")
    assert body["dead"] == [True, True] and body["matrix"] == [[None, None], [None, None]]
    _, body = get(client, "/augmentation_variance?run=run&epoch=0")
    dead_layer = body["layers"][1]
    assert dead_layer["dead"] == [True, True] and dead_layer["invariant_fraction"] is None
    assert dead_layer["relative_variance"] == [None, None]


@pytest.mark.parametrize(
    "path, status",
    [
        ("/correlations", 400),
        ("/correlations?run=corr&measure=spearman", 400),
        ("/correlations?run=nope", 404),
        ("/correlations?run=act", 404),
        ("/correlations?run=" + "x" * 5000, 400),
        ("/feature_correlations?run=corr&layer=hidden1&epoch=1&over=neurons", 400),
        ("/feature_correlations?run=corr&layer=hidden1", 400),
        ("/feature_correlations?run=corr&layer=hidden1&epoch=-1", 400),
        ("/feature_correlations?run=corr&layer=nope&epoch=1", 404),
        ("/feature_correlations?run=corr&layer=hidden1&epoch=99", 404),
        ("/augmentation_variance?run=corr", 400),
        ("/augmentation_variance?run=corr&epoch=x", 400),
        ("/augmentation_variance?run=corr&epoch=99", 404),
        ("/augmentation_variance?run=act&epoch=0", 404),
    ],
)
def test_bad_requests_get_json_errors(client, path, status):
    code, body = get(client, path)
    assert code == status
    assert set(body) == {"error"} and "Traceback" not in body["error"]


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST files in ../shared/data/mnist")
def test_mnist_correlations_example(tmp_path):
    printed = run_example("mnist_correlations.py", "--data-dir", MNIST_DIR, "--logdir", str(tmp_path), "--epochs", "1",
                "--train-size", "256", "--probe-size", "100")
    events = read_run(str(tmp_path))
    layers = events[metadata.correlations_tag(1)]["content"]["layers"]
    assert len(layers) == 13  # 4 x (Dense, BatchNormalization, ReLU) + output.
    assert {e["content"].get("layer") for e in events.values()} >= {"relu_1", "relu_4"}
    assert "epoch 0: mean cka" in printed and "relu_4 sample r within classes" in printed
