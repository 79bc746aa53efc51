"""ActivationLogger: what it writes, for Sequential, functional and conv models."""

import keras
import numpy as np
import pytest

import nnviz_tb
from nnviz_tb import metadata
from conftest import digits, train_digits_mlp
from event_reading import BLOB_SEQUENCE, read_run


def _activations(events, layer):
    """`{epoch: array}` of one layer's activations."""
    found = {}
    for tag, event in events.items():
        content = event["content"]
        if content["kind"] == metadata.KIND_ACTIVATIONS and content["layer"] == layer:
            (blob,) = event["steps"][content["epoch"]]
            found[content["epoch"]] = metadata.decode_array(blob)
    return found


def _layers(events):
    return {
        e["content"]["layer"] for e in events.values() if e["content"]["kind"] == metadata.KIND_ACTIVATIONS
    }


def test_sequential_records_every_epoch_from_zero(tmp_path):
    model, logger = train_digits_mlp(str(tmp_path / "run"), epochs=3, probe_size=200)
    events = read_run(str(tmp_path / "run"))
    # Dropout is skipped; the hidden Dense layers and the output layer are recorded.
    assert _layers(events) == {"hidden1", "hidden2", "output"}
    assert all(e["data_class"] == BLOB_SEQUENCE for e in events.values())
    hidden = _activations(events, "hidden1")
    assert sorted(hidden) == [0, 1, 2, 3]
    assert hidden[3].shape == (200, 32) and hidden[3].dtype == np.float16
    # Epoch 3 is the trained model's state: it matches a forward pass now.
    x, y = digits()
    expected = keras.Model(model.inputs, model.get_layer("hidden1").output).predict(x[:200], verbose=0)
    np.testing.assert_allclose(hidden[3], expected, rtol=1e-2, atol=1e-2)
    # Epoch 0 is the untrained network, not the trained one.
    assert not np.allclose(hidden[0], hidden[3], atol=1e-2)

    probe = events[metadata.PROBE_TAG]["steps"][0]
    info = metadata.decode_json(probe[metadata.PROBE_INFO])
    assert info["num_points"] == 200
    assert info["class_names"] == [str(i) for i in range(10)]
    assert [layer["name"] for layer in info["layers"]] == ["hidden1", "hidden2", "output"]
    np.testing.assert_array_equal(metadata.decode_array(probe[metadata.PROBE_LABELS]), y[:200])
    thumbs = metadata.decode_array(probe[metadata.PROBE_THUMBNAILS])
    assert thumbs.shape == (200, 8, 8) and thumbs.dtype == np.uint8

    predictions = metadata.decode_array(events[metadata.predictions_tag(3)]["steps"][3][0])
    np.testing.assert_array_equal(predictions, expected_predictions(model, x[:200]))


def expected_predictions(model, x):
    return model.predict(x, verbose=0).argmax(axis=1)


def test_functional_model_with_branches_and_a_shared_layer(tmp_path):
    inputs = keras.Input((64,))
    left = keras.layers.Dense(16, activation="relu", name="left")(inputs)
    right = keras.layers.Dense(16, activation="tanh", name="right")(inputs)
    shared = keras.layers.Dense(8, name="shared")
    merged = keras.layers.Concatenate(name="concat")([shared(left), shared(right)])
    outputs = keras.layers.Dense(10, activation="softmax", name="out")(merged)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = digits()
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x[:100], y[:100]))
    model.fit(x[:300], y[:300], epochs=1, verbose=0, callbacks=[logger])
    events = read_run(str(tmp_path))
    assert _layers(events) == {"left", "right", "shared", "shared@1", "out"}
    shared_first = _activations(events, "shared")[1]
    shared_second = _activations(events, "shared@1")[1]
    assert shared_first.shape == shared_second.shape == (100, 8)
    assert not np.allclose(shared_first, shared_second)


def _conv_model():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(6, 3, activation="relu", name="conv"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax", name="out"),
        ]
    )


@pytest.mark.parametrize(
    "reduction, conv_dim, described",
    [("mean", 6, "global_mean"), ("max", 6, "global_max"), ("flatten", 216, "flatten")],
)
def test_conv_model_reductions(tmp_path, reduction, conv_dim, described):
    model = _conv_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = digits()
    images = x.reshape(-1, 8, 8, 1)
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(images[:50], y[:50]), reduction=reduction)
    model.fit(images[:200], y[:200], epochs=1, verbose=0, callbacks=[logger])
    events = read_run(str(tmp_path))
    conv = _activations(events, "conv")[1]
    assert conv.shape == (50, conv_dim)
    tag = metadata.activations_tag("conv", 1)
    assert events[tag]["content"]["reduction"] == described
    feature_maps = keras.Model(model.inputs, model.get_layer("conv").output).predict(images[:50], verbose=0)
    if reduction == "mean":
        np.testing.assert_allclose(conv, feature_maps.mean(axis=(1, 2)), rtol=1e-2, atol=1e-3)
    assert events[metadata.PROBE_TAG]["steps"][0]


def test_flatten_caps_the_dimension_by_pooling(tmp_path):
    model = _conv_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = digits()
    images = x.reshape(-1, 8, 8, 1)
    logger = nnviz_tb.ActivationLogger(
        str(tmp_path), probe=(images[:20], y[:20]), reduction="flatten", max_dim=60
    )
    model.fit(images[:64], y[:64], epochs=1, verbose=0, callbacks=[logger])
    content = read_run(str(tmp_path))[metadata.activations_tag("conv", 1)]["content"]
    # 6x6x6 = 216 > 60; a 2x2 pool gives 3x3x6 = 54.
    assert content["shape"] == [20, 54]
    assert content["reduction"] == "avg_pool_2_flatten"


def test_batches_respect_the_memory_budget(tmp_path):
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(64, 3, padding="same", name="conv"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(np.zeros((10, 32, 32, 3), "float32"), np.zeros(10, int)),
                                       batch_memory_mb=1)
    logger.set_model(model)
    # One sample: input 3 KiB*4 + conv map 64 KiB*4 + small outputs: about 0.27 MB.
    per_sample = (32 * 32 * 3 + 32 * 32 * 64 + 64 + 2) * 4
    assert logger._outputs.batch_size == 2**20 // per_sample
    assert logger._outputs.batch_size * 32 * 32 * 64 * 4 <= 2**20


@pytest.mark.parametrize("subclassed", [False, True])
def test_a_probe_pass_sees_the_weights_of_its_moment(subclassed):
    from nnviz_tb import layer_outputs
    from nnviz_tb.callbacks.epoch_recorder import ProbePass

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(8, activation="relu", name="hidden")
            self.out = keras.layers.Dense(3, activation="softmax", name="out")

        def call(self, x):
            return self.out(self.hidden(x))

    keras.utils.set_random_seed(0)
    model = Net() if subclassed else keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(8, activation="relu", name="hidden"),
         keras.layers.Dense(3, activation="softmax", name="out")])
    x = np.random.default_rng(0).normal(size=(40, 5)).astype(np.float32)
    model(x[:2])
    outputs = layer_outputs.LayerOutputs(model, ["hidden"], probe_x=x, num_classes=3)
    assert (outputs.snapshot() is None) == subclassed  # A subclassed model's pass runs at once.
    now = outputs(x)
    later = ProbePass(outputs, x, None)
    for weight in model.weights:  # Training goes on before the pass runs.
        weight.assign(weight + 1.0)
    activations, predictions = later()
    np.testing.assert_allclose(activations["hidden"], now[0]["hidden"], atol=1e-6)
    np.testing.assert_array_equal(predictions, now[1])
    assert later() is later()  # Computed once.
    assert not np.allclose(outputs(x)[0]["hidden"], now[0]["hidden"])


def test_every_n_epochs_and_the_last_epoch(tmp_path):
    train_digits_mlp(str(tmp_path), epochs=5, probe_size=50, every_n_epochs=2)
    assert sorted(_activations(read_run(str(tmp_path)), "hidden1")) == [0, 2, 4, 5]


def test_resuming_with_initial_epoch_appends(tmp_path):
    model, _ = train_digits_mlp(str(tmp_path), epochs=2, probe_size=50)
    x, y = digits()
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x[:50], y[:50]))
    model.fit(x, y, epochs=4, initial_epoch=2, verbose=0, callbacks=[logger])
    events = read_run(str(tmp_path))
    epochs = _activations(events, "hidden1")
    assert sorted(epochs) == [0, 1, 2, 3, 4]
    # Two fit calls, two event files, nothing overwritten.
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2


def test_layers_argument_selects_layers(tmp_path):
    train_digits_mlp(str(tmp_path), epochs=1, probe_size=30, layers=["hidden2"])
    assert _layers(read_run(str(tmp_path))) == {"hidden2"}


def test_class_names_are_written(tmp_path):
    names = ["zero", "one", "<b>two</b>", "3", "4", "5", "6", "7", "8", "9"]
    train_digits_mlp(str(tmp_path), epochs=1, probe_size=30, class_names=names)
    probe = read_run(str(tmp_path))[metadata.PROBE_TAG]["steps"][0]
    assert metadata.decode_json(probe[metadata.PROBE_INFO])["class_names"] == names


X = np.zeros((10, 64), "float32")
Y = np.arange(10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"probe": X}, "must be a tuple"),
        ({"probe": (X, Y[:5])}, "same length"),
        ({"probe": (X, Y.astype(float) + 0.5)}, r"integral values.*0\.5 at index 0"),
        ({"probe": (X, -Y)}, ">= 0"),
        ({"probe": (X[:0], Y[:0])}, "at least one sample"),
        ({"probe": (X, Y), "every_n_epochs": 0}, "every_n_epochs"),
        ({"probe": (X, Y), "reduction": "median"}, "reduction"),
        ({"probe": (X, Y), "layers": "hidden1"}, "list of layer names"),
        ({"probe": (X, Y), "class_names": ["a", "b"]}, "name every class"),
        ({"probe": (X, Y), "max_dim": -3}, "max_dim"),
    ],
)
def test_invalid_arguments_raise_value_error(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        nnviz_tb.ActivationLogger(str(tmp_path), **kwargs)


def test_one_hot_labels_are_accepted(tmp_path):
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, np.eye(10)[Y]))
    np.testing.assert_array_equal(logger.probe_labels, Y)


def test_unknown_layer_fails_before_training(tmp_path):
    x, y = digits()
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, name="out")])
    model.compile("adam", "mse")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x[:10], y[:10]), layers=["nope"])
    with pytest.raises(ValueError, match="does not have.*nope"):
        model.fit(x[:10], np.zeros((10, 10)), epochs=1, verbose=0, callbacks=[logger])
    assert not list(tmp_path.glob("events*"))  # Nothing written.


def test_non_finite_activations_are_recorded_with_a_warning(tmp_path, caplog):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="dense")])
    model.compile("sgd", "mse")
    x = np.array([[1.0, 2.0], [np.nan, 0.0], [3.0, 4.0]], "float32")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x, np.array([0, 1, 0])))
    model.fit(x[[0, 2]], np.zeros((2, 3)), epochs=1, verbose=0, callbacks=[logger])
    values = _activations(read_run(str(tmp_path)), "dense")[1]
    assert np.isnan(values[1]).all() and np.isfinite(values[[0, 2]]).all()
    assert "NaN or infinite" in caplog.text


def test_instance_serves_two_fit_calls(tmp_path):
    model, logger = train_digits_mlp(str(tmp_path / "a"), epochs=1, probe_size=20)
    x, y = digits()
    logger.log_dir = str(tmp_path / "b")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    assert sorted(_activations(read_run(str(tmp_path / "b")), "hidden1")) == [0, 1]


def test_a_layer_wider_than_max_dim_keeps_evenly_spaced_features(tmp_path, capsys):
    from nnviz_tb import reader
    from nnviz_tb.analysis.correlation import evenly_spaced

    keras.utils.set_random_seed(0)
    x, y = digits()
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(3000, activation="relu", name="wide"),
                              keras.layers.Dense(10, activation="softmax", name="out")])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x[:200], y[:200]), max_dim=500)
    model.fit(x[:256], y[:256], epochs=1, verbose=0, callbacks=[logger])
    assert "wide (500 of 3000)" in capsys.readouterr().out
    run = reader.read_run(str(tmp_path))
    wide = next(layer for layer in run.layers if layer["name"] == "wide")
    kept = evenly_spaced(3000, 500)
    assert (wide["dim"], wide["total_dim"], wide["features"]) == (500, 3000, kept.tolist())
    reference = keras.Model(model.inputs, model.get_layer("wide").output).predict(x[:200], verbose=0)[:, kept]
    np.testing.assert_allclose(run.activations["wide"][1].astype(np.float32), reference, rtol=1e-2, atol=1e-2)
    assert run.activations["out"][1].shape == (200, 10)  # Narrow layers whole.
