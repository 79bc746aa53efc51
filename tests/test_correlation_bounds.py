"""CorrelationLogger on real failures: integer inputs, wide layers, many layers, a slow writer."""

import logging
import threading
import time
import tracemalloc

import keras
import numpy as np
import pytest

import nnviz_tb
from nnviz_tb import augment, metadata
from nnviz_tb.analysis import correlation
from nnviz_tb.correlation_summaries import CorrelationSummaries
from conftest import digits, train_digits_mlp
from event_reading import read_run
from test_correlations import get, reference_cka, reference_pearson
from test_plugin_routes import make_client


def _text_model(vocabulary=2000, length=20):
    """keras-io's text classifier, small: token ids -> Embedding -> pooling -> Dense."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((length,), dtype="int32"),
        keras.layers.Embedding(vocabulary, 8, name="embedding"),
        keras.layers.GlobalAveragePooling1D(name="pool"),
        keras.layers.Dense(4, activation="relu", name="hidden"),
        keras.layers.Dense(2, activation="softmax", name="output"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def test_token_ids_are_not_augmented_and_the_view_says_why(tmp_path, caplog):
    rng = np.random.default_rng(0)
    tokens, labels = rng.integers(0, 2000, size=(64, 20)).astype("int32"), np.arange(64) % 2
    tokens[0, :2] = [0, 1999]  # The full id range: noise would leave [0, 2000).
    logger = nnviz_tb.CorrelationLogger(str(tmp_path / "text"), probe=(tokens, labels))
    with caplog.at_level(logging.WARNING):
        _text_model().fit(tokens, labels, epochs=2, verbose=0, callbacks=[logger])
    warnings = [r.getMessage() for r in caplog.records if "augmentation" in r.getMessage()]
    assert len(warnings) == 1 and "integers (e.g. token ids)" in warnings[0]
    events = read_run(str(tmp_path / "text"))
    assert metadata.correlations_tag(2) in events
    assert not [tag for tag in events if tag.startswith("nnviz/augmentation_variance")]
    client = make_client(str(tmp_path))[0]
    _, runs = get(client, "/runs")
    summary = runs["text"]["correlations"]
    assert summary["augmentation_epochs"] == [] and "token ids" in summary["augmentation_note"]


def test_only_the_float_inputs_of_a_multi_input_model_are_augmented(tmp_path):
    x, y = digits()
    keras.utils.set_random_seed(0)
    pixels, tokens = keras.Input((64,), name="pixels"), keras.Input((5,), dtype="int32", name="tokens")
    words = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(50, 4)(tokens))
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")(keras.layers.Concatenate()([pixels, words]))
    model = keras.Model([pixels, tokens], keras.layers.Dense(10, activation="softmax", name="output")(hidden))
    model.compile("adam", "sparse_categorical_crossentropy")
    ids = (np.arange(len(x))[:, None] * [1, 3, 5, 7, 11] % 50).astype("int32")
    logger = nnviz_tb.CorrelationLogger(str(tmp_path), probe=([x[:80], ids[:80]], y[:80]), num_augmentations=6)
    copies = logger._inputs  # The probe, then its 6 augmented copies.
    np.testing.assert_array_equal(copies[1][80:], np.repeat(ids[:1], 6, axis=0))
    assert np.abs(copies[0][80:] - x[0]).mean() > 0.1
    model.fit([x, ids], y, epochs=1, verbose=0, callbacks=[logger])
    content = read_run(str(tmp_path))[metadata.correlations_tag(1)]["content"]
    assert content["augmentation_note"].startswith("Only the float inputs") and "input 1" in content["augmentation_note"]
    variances = [metadata.decode_array(b) for b in read_run(str(tmp_path))[
        metadata.augmentation_variance_tag(1)]["steps"][1]]
    content = read_run(str(tmp_path))[metadata.augmentation_variance_tag(1)]["content"]
    by_layer = dict(zip(content["layers"], variances))
    assert by_layer["hidden"].shape == (2, 16) and by_layer["hidden"][0].max() > 0
    embedded = [v for name, v in by_layer.items() if name.startswith("embedding")]
    assert len(embedded) == 1 and np.all(embedded[0][0] == 0)  # The token ids did not move.


def test_a_model_failing_on_the_augmented_copies_keeps_training(tmp_path, caplog):
    """A custom augmentation that makes invalid token ids: one warning, the probe still recorded."""
    rng = np.random.default_rng(0)
    tokens, labels = rng.integers(0, 2000, size=(32, 20)).astype("int32"), np.arange(32) % 2
    logger = nnviz_tb.CorrelationLogger(str(tmp_path), probe=(tokens, labels), num_augmentations=3,
                                        augment=lambda x, rng: x + 5000)
    with caplog.at_level(logging.WARNING):
        _text_model().fit(tokens, labels, epochs=2, verbose=0, callbacks=[logger])
    assert len([r for r in caplog.records if "augmented copies" in r.getMessage()]) == 1
    events = read_run(str(tmp_path))
    assert {metadata.correlations_tag(e) for e in range(3)} <= set(events)
    note = events[metadata.correlations_tag(2)]["content"]["augmentation_note"]
    assert "failed on the augmented copies" in note and "not in [0, 2000)" in note


def test_default_augmentation_keeps_integer_inputs():
    tokens = np.arange(10, dtype=np.int64)
    assert augment.RandomAugmentation()(tokens, np.random.default_rng(0)).tolist() == list(range(10))
    images = np.linspace(0, 1, 64, dtype=np.float32)
    both = augment.RandomAugmentation()({"t": tokens, "x": images}, np.random.default_rng(0))
    assert both["t"].tolist() == list(range(10)) and both["x"].dtype == np.float32
    assert np.abs(both["x"] - images).max() > 0


@pytest.mark.parametrize("points", [None, np.arange(0, 300, 2)])
def test_gram_and_feature_forms_of_cka_agree_with_the_reference(rng, points):
    x = rng.normal(size=(300, 40))
    y = np.tanh(x[:, :25] @ rng.normal(size=(25, 60))) + 0.5 * rng.normal(size=(300, 60))
    used = slice(None) if points is None else points
    for grams in (False, True):
        plan = correlation.CrossLayerPlan(points=points, grams=grams)
        scores = correlation.cross_layer_scores([x, y], ["cka"], plan)
        assert scores["cka"][0, 1] == pytest.approx(reference_cka(x[used], y[used]), rel=1e-4)
        assert np.diagonal(scores["cka"]).tolist() == [1.0, 1.0]


def test_best_match_on_sampled_features_equals_the_reference_on_them(rng):
    x, y = rng.normal(size=(200, 30)), rng.normal(size=(200, 50))
    y[:, :30] += 2 * x
    plan = correlation.CrossLayerPlan(pearson_features=10)
    score = correlation.cross_layer_scores([x, y], ["pearson"], plan)["pearson"][0, 1]
    kept_x, kept_y = correlation.evenly_spaced(30, 10), correlation.evenly_spaced(50, 10)
    assert score == pytest.approx(reference_pearson(x[:, kept_x], y[:, kept_y]), rel=1e-5)


def test_plans_stay_within_the_documented_bounds(tmp_path):
    labels = np.arange(2000) % 10
    # Every layer of ResNet50 at 32 x 32 (keras.applications, "mean" reduction).
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    names = [layer.name for layer in model.layers[1:]]
    logger = nnviz_tb.CorrelationLogger(str(tmp_path), probe=(np.zeros((2, 32, 32, 3), "float32"), [0, 1]),
                                        layers=names, num_augmentations=0)
    logger.set_model(model)
    dims = logger._outputs.dims
    assert len(dims) == 176 and sum(dims) > 90000
    plan = correlation.plan_cross_layer(dims, labels, max_features=256)
    n, total = len(plan.points), sum(dims)
    assert plan.grams and 300 < n < 2000 and np.ptp(np.bincount(labels[plan.points])) <= 1
    assert n * n * (total + len(dims) * (len(dims) + 1) / 2) <= correlation.CKA_WORK
    assert len(dims) * n * n * 4 <= correlation.GRAM_BYTES
    sizes = np.minimum(dims, plan.pearson_features)
    assert n * (sizes.sum() ** 2 - np.square(sizes).sum()) / 2 <= correlation.PEARSON_WORK
    assert plan.pearson_features == 45 and n == 617  # As the CorrelationLogger docstring says.
    # The MNIST MLP: every point, every feature, from the features' cross products.
    assert correlation.plan_cross_layer([256, 128, 64, 32, 10], labels, 256) == correlation.CrossLayerPlan()


def test_a_wide_layer_costs_memory_linear_in_its_width(rng):
    """A [500, 12000] layer: its 12000 x 12000 feature products (576 MB) are never formed."""
    wide = rng.normal(size=(500, 12000)).astype(np.float32)
    narrow = wide[:, :50] @ rng.normal(size=(50, 20)).astype(np.float32)
    labels = np.arange(500) % 5
    tracemalloc.start()
    layers = [correlation.LayerStatistics(wide), correlation.LayerStatistics(narrow)]
    plan = correlation.plan_cross_layer([12000, 20], labels, max_features=256)
    scores = correlation.cross_layer_scores(layers, plan=plan)
    matrix, _, indices = correlation.feature_correlations(layers[0], 256)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * wide.nbytes  # 24 MB of activations; the old code needed 576 MB.
    assert matrix.shape == (256, 256) and indices[-1] == 11999
    assert plan.grams and plan.points is None  # 500 x 500 Gram matrices: exact, over every point.
    assert scores["cka"][0, 1] == pytest.approx(reference_cka(wide, narrow), rel=1e-4)
    assert 0 < scores["pearson"][0, 1] < 1


def test_a_dense_layer_wider_than_max_dim_is_sampled_and_says_so(tmp_path):
    x, y = digits()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(20000, activation="relu", name="wide"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.CorrelationLogger(str(tmp_path / "wide"), probe=(x[:200], y[:200]), num_augmentations=4,
                                        max_features=64)
    tracemalloc.start()
    model.fit(x[:200], y[:200], epochs=1, verbose=0, callbacks=[logger])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 300 * 2**20  # The old code formed 20000 x 20000 products: 1.6 GB at least.
    events = read_run(str(tmp_path / "wide"))
    content = events[metadata.correlations_tag(1)]["content"]
    assert content["dims"] == [20000, 10] and content["sampled_dims"] == [2048, 10]
    features = [metadata.decode_array(b) for b in events[metadata.feature_correlations_tag("wide", 1)]["steps"][1]]
    indices = features[metadata.FEATURE_INDICES]
    assert len(indices) == 64 and indices[0] == 0 and indices[-1] == 19999
    client = make_client(str(tmp_path))[0]
    _, body = get(client, "/feature_correlations?run=wide&layer=wide&epoch=1")
    assert body["total"] == 20000 and len(body["matrix"]) == 64
    _, body = get(client, "/augmentation_variance?run=wide&epoch=1")
    assert body["layers"][0]["indices"] == correlation.evenly_spaced(20000, 2048).tolist()
    assert body["layers"][1]["indices"] is None


def test_writing_lags_training_by_at_most_one_record(tmp_path, monkeypatch):
    """A slow computation (0.3 s a record, epochs of milliseconds): training waits for it."""
    written, lags = [], []
    original = CorrelationSummaries.write

    def slow_write(self, step, activations, augmented):
        time.sleep(0.3)
        original(self, step, activations, augmented)
        written.append(step)

    class Lag(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # After the logger's: it has submitted epoch + 1.
            lags.append(epoch + 2 - len(written))  # Records 0 .. epoch + 1 submitted, minus those written.

    monkeypatch.setattr(CorrelationSummaries, "write", slow_write)
    train_digits_mlp(str(tmp_path), epochs=6, probe_size=100, logger_class="CorrelationLogger",
                     callbacks=[Lag()], num_augmentations=0)
    assert max(lags) == 1 and len(lags) == 6
    assert written == list(range(7))  # All of them, in order, by the end of fit.
    assert not [t for t in threading.enumerate() if t.name == "nnviz-writer"]


def test_features_constant_over_the_sampled_points_are_left_out(rng):
    """Over a sample of the points, a feature can be constant (positive or negative): no NaN."""
    x = rng.normal(size=(100, 6))
    x[::2, 1], x[::2, 2] = 0.7, -0.4  # Constant over the even points only.
    y = x[:, [0, 3, 4, 5]] + 0.1 * rng.normal(size=(100, 4))
    plan = correlation.CrossLayerPlan(points=np.arange(0, 100, 2), pearson_features=4)
    with np.errstate(all="raise"):
        score = correlation.cross_layer_scores([x, y], ["pearson"], plan)["pearson"][0, 1]
    even = x[::2]
    kept = correlation.evenly_spaced(6, 4)  # Features 0, 2, 3, 5; 2 is constant there.
    assert score == pytest.approx(reference_pearson(even[:, kept], y[::2]), rel=1e-5)
