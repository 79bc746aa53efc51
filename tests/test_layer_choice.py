"""Which layers and which output ActivationLogger records, on models beyond the examples."""

import logging

import keras
import numpy as np
import pytest

import nnviz_tb
from nnviz_tb import metadata, prediction, reader
from nnviz_tb.layer_outputs import LayerOutputs
from event_reading import read_run

RNG = np.random.default_rng(0)
X8 = RNG.normal(size=(40, 8)).astype("float32")
Y2 = np.arange(40) % 2


def _probe_info(run_dir):
    return metadata.decode_json(read_run(run_dir)[metadata.PROBE_TAG]["steps"][0][metadata.PROBE_INFO])


def _logit_model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dense(1, name="logit")])
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def test_a_logit_head_is_thresholded_at_zero(tmp_path):
    model = _logit_model()
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2.astype("float32")))
    model.fit(X8, Y2, epochs=1, verbose=0, callbacks=[logger])
    logits = model.predict(X8, verbose=0)[:, 0]
    assert 0 < (logits > 0).sum() < len(logits) and ((logits > 0) != (logits > 0.5)).any()
    np.testing.assert_array_equal(reader.read_run(str(tmp_path)).predictions[1], logits > 0)
    assert _probe_info(str(tmp_path))["prediction"] == {"output": "logit", "rule": "threshold 0"}


def test_from_logits_overrides_the_model_and_is_validated(tmp_path):
    model = _logit_model()
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2), from_logits=False)
    model.fit(X8, Y2, epochs=1, verbose=0, callbacks=[logger])
    expected = model.predict(X8, verbose=0)[:, 0] > 0.5
    np.testing.assert_array_equal(reader.read_run(str(tmp_path)).predictions[1], expected)
    with pytest.raises(ValueError, match=r"'from_logits' parameter must be True, False or None \(read from the model\). Got 'yes'"):
        nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2), from_logits="yes")


@pytest.mark.parametrize(
    "activation, loss, rule",
    [
        ("sigmoid", "binary_crossentropy", "threshold 0.5"),
        ("sigmoid", None, "threshold 0.5"),
        (None, keras.losses.BinaryCrossentropy(from_logits=True), "threshold 0"),
        (None, keras.losses.BinaryFocalCrossentropy(from_logits=True), "threshold 0"),
        (None, None, "threshold 0"),
        ("tanh", "hinge", "threshold 0"),
        (None, "mse", "threshold 0.5"),
        (None, keras.losses.MeanSquaredError(), "threshold 0.5"),
    ],
)
def test_one_unit_rules_follow_the_loss_then_the_activation(activation, loss, rule):
    layer = keras.layers.Dense(1, activation=activation)
    assert prediction.choose_rule(1, layer, loss) == rule
    assert prediction.choose_rule(3, layer, loss) == "argmax"


def _two_heads(first_key="age"):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    h = keras.layers.Dense(6, activation="relu", name="shared")(inputs)
    model = keras.Model(inputs, {
        first_key: keras.layers.Dense(5, name="age_head")(h),
        "species": keras.layers.Dense(3, activation="softmax", name="species_head")(h),
    })
    model.compile("adam", {first_key: "mse", "species": "sparse_categorical_crossentropy"})
    return model


def test_the_labelled_head_of_several_outputs_is_the_one_that_fits_the_classes(tmp_path, caplog, capsys):
    model = _two_heads()
    y3 = np.arange(40) % 3
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, y3))
    with caplog.at_level(logging.WARNING):
        model.fit(X8, {"age": np.zeros((40, 5)), "species": y3}, epochs=1, verbose=0, callbacks=[logger])
    assert not caplog.records  # No guess: only "species" has 3 units.
    expected = model.predict(X8, verbose=0)["species"].argmax(axis=1)
    np.testing.assert_array_equal(reader.read_run(str(tmp_path)).predictions[1], expected)
    assert _probe_info(str(tmp_path))["prediction"] == {"output": "species", "rule": "argmax"}
    assert "Predicted classes: output 'species', argmax." in capsys.readouterr().out


def test_a_bad_output_name_fails_before_training_and_a_guess_is_warned_about(tmp_path, caplog):
    model = _two_heads()
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2 * 4), output="label")
    with pytest.raises(ValueError, match=r"'output' parameter must name an output of the model, one of "
                                         r"\['age', 'species'\]. Got 'label'"):
        logger.set_model(model)
    with pytest.raises(ValueError, match="'output' parameter must be the name"):
        nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2), output=1)
    with caplog.at_level(logging.WARNING):  # 5 classes fit "age" (5 units) only...
        assert LayerOutputs(model, probe_x=X8, num_classes=5).output_name == "age"
        assert not caplog.records
        # ...and 7 classes fit neither: the first, with a warning.
        assert LayerOutputs(model, probe_x=X8, num_classes=7).output_name == "age"
    assert "fit none of them; the predictions are those of 'age'. Pass output=<name>" in caplog.text


class Residual(keras.layers.Layer):
    """A custom block: recorded by default, like built-in hidden layers."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(units, activation="relu", name="inner")

    def call(self, x):
        return x + self.dense(x)


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.embed = keras.layers.Dense(6, name="embed")
        self.block = Residual(6, name="block")
        self.head = keras.layers.Dense(2, activation="softmax", name="head")

    def call(self, x, training=False):
        return self.head(self.block(self.embed(x)))


def test_a_subclassed_model_records_its_sublayers_even_unbuilt(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = Subclassed()  # Not built: the probe's first points build it.
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2), layers=None)
    model.fit(X8, Y2, epochs=2, verbose=0, callbacks=[logger])
    run = reader.read_run(str(tmp_path))
    assert [layer["name"] for layer in run.layers] == ["embed", "block", "head"]
    embedded = model.embed(X8)
    np.testing.assert_allclose(run.activations["embed"][2], embedded, atol=1e-2)
    np.testing.assert_allclose(run.activations["block"][2], model.block(embedded), atol=1e-2)
    np.testing.assert_array_equal(run.predictions[2], model.predict(X8, verbose=0).argmax(axis=1))
    assert "call model.build()" not in capsys.readouterr().out
    # Layers inside the block are there by name.
    inner = nnviz_tb.ActivationLogger(str(tmp_path / "inner"), probe=(X8, Y2), layers=["block/inner"])
    model.fit(X8, Y2, epochs=1, verbose=0, callbacks=[inner])
    recorded = reader.read_run(str(tmp_path / "inner")).activations["block/inner"][1]
    np.testing.assert_allclose(recorded, model.block.dense(model.embed(X8)), atol=1e-2)


def test_layers_inside_a_nested_backbone_are_recorded_by_name(tmp_path):
    keras.utils.set_random_seed(0)
    backbone_in = keras.Input((8,))
    backbone = keras.Model(backbone_in, keras.layers.Dense(5, activation="tanh", name="deep")(
        keras.layers.Dense(7, activation="relu", name="early")(backbone_in)), name="backbone")
    model = keras.Sequential([keras.Input((8,)), backbone, keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Available layers: \[.*'backbone/early', 'backbone/deep'"):
        nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2), layers=["early"]).set_model(model)
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2), layers=["backbone/early", "backbone", "out"])
    model.fit(X8, Y2, epochs=1, verbose=0, callbacks=[logger])
    run = reader.read_run(str(tmp_path))
    early = keras.Model(backbone_in, backbone.get_layer("early").output).predict(X8, verbose=0)
    np.testing.assert_allclose(run.activations["backbone/early"][1], early, atol=1e-2)
    np.testing.assert_allclose(run.activations["backbone"][1], backbone.predict(X8, verbose=0), atol=1e-2)
    np.testing.assert_array_equal(run.predictions[1], model.predict(X8, verbose=0).argmax(axis=1))


def test_flatten_of_a_variable_length_sequence_uses_the_probe_length(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, 8))
    conv = keras.layers.Conv1D(3, 3, padding="same", name="conv")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(keras.layers.GlobalAveragePooling1D()(conv))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    x = RNG.normal(size=(20, 10, 8)).astype("float32")
    y = np.arange(20) % 2
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x, y), reduction="flatten", max_dim=16)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    run = reader.read_run(str(tmp_path))
    described = {layer["name"]: layer for layer in run.layers}["conv"]
    assert described["output_shape"] == [10, 3] and described["reduction"] == "avg_pool_2_flatten"
    maps = keras.Model(inputs, conv).predict(x, verbose=0)  # [20, 10, 3] -> pooled by 2: [20, 5, 3].
    expected = maps.reshape(20, 5, 2, 3).mean(axis=2).reshape(20, 15)
    np.testing.assert_allclose(run.activations["conv"][1], expected, atol=1e-2)


def test_deep_cnns_record_their_stage_outputs_by_default(tmp_path, capsys):
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    x = np.zeros((4, 32, 32, 3), "float32")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x, np.arange(4)))
    logger.set_model(model)
    assert logger._outputs.names == [
        "conv1_relu", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out",
        "avg_pool", "predictions",
    ]
    assert logger._outputs.dims == [64, 256, 512, 1024, 2048, 2048, 10]
    assert len(LayerOutputs(model, layers="all").names) == 158  # Every Conv, BatchNorm, ReLU.
    logger.on_train_begin()
    logger.on_train_end()
    out = capsys.readouterr().out
    size = 4 * (2 * sum(logger._outputs.dims) + 4)  # 47,464 bytes.
    assert "7 layers (mean reduction): conv1_relu [16x16x64] -> 64, conv2_block3_out [8x8x256] -> 256" in out
    assert "Storage: about %.0f KB per recorded epoch (4 points x (5962 values x 2 bytes + 4))." % (size / 1e3) in out


def test_small_models_keep_every_hidden_layer():
    keras.utils.set_random_seed(0)
    layers = [keras.Input((8,))] + [keras.layers.Dense(4, name="d%d" % i) for i in range(11)]
    model = keras.Sequential(layers + [keras.layers.Dense(2, name="out")])
    assert LayerOutputs(model).names == ["d%d" % i for i in range(11)] + ["out"]  # 12 layers.
    deeper = keras.Sequential(layers[:1] + [keras.layers.Dense(4, name="e%d" % i) for i in range(20)]
                              + [keras.layers.Dense(2, name="top")])
    names = LayerOutputs(deeper).names  # 21 dense layers: 12 evenly spaced, the output kept.
    assert len(names) == 12 and names[0] == "e0" and names[-1] == "top"


def test_deep_mlps_record_each_block_and_transformers_each_residual():
    keras.utils.set_random_seed(0)
    layers = [keras.Input((8,))]
    for i in range(1, 6):  # 5 x (Dense, BatchNormalization, ReLU) + output: 16 hidden layers.
        layers += [keras.layers.Dense(16 - i, name="dense_%d" % i), keras.layers.BatchNormalization(name="bn_%d" % i),
                   keras.layers.ReLU(name="relu_%d" % i)]
    mlp = keras.Sequential(layers + [keras.layers.Dense(2, activation="softmax", name="out")])
    assert LayerOutputs(mlp).names == ["relu_1", "relu_2", "relu_3", "relu_4", "relu_5", "out"]
    assert len(LayerOutputs(mlp, layers="all").names) == 16

    inputs = keras.Input((32, 4))
    h = inputs
    for i in range(4):  # keras.io's time-series Transformer: 4 blocks at one resolution.
        a = keras.layers.LayerNormalization(name="norm_a%d" % i)(h)
        a = keras.layers.MultiHeadAttention(2, 4, name="attention%d" % i)(a, a)
        h = keras.layers.Add(name="residual_a%d" % i)([a, h])
        f = keras.layers.LayerNormalization(name="norm_f%d" % i)(h)
        f = keras.layers.Conv1D(4, 1, activation="relu", name="ff%d" % i)(f)
        h = keras.layers.Add(name="residual_f%d" % i)([f, h])
    pooled = keras.layers.GlobalAveragePooling1D(name="pool")(h)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(
        keras.layers.Dense(8, activation="relu", name="mlp")(pooled)))
    assert LayerOutputs(model).names == [
        "residual_a0", "residual_f0", "residual_a1", "residual_f1", "residual_a2", "residual_f2",
        "residual_a3", "residual_f3", "pool", "mlp", "out"]


def test_a_sequential_model_without_an_input_is_built_from_the_probe(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X8, Y2))
    model.fit(X8, Y2, epochs=1, verbose=0, callbacks=[logger])
    run = reader.read_run(str(tmp_path))
    assert sorted(run.activations) == ["hidden", "out"]
    np.testing.assert_array_equal(run.predictions[1], model.predict(X8, verbose=0).argmax(axis=1))


def test_a_model_the_probe_cannot_build_fails_before_training_with_the_reason(tmp_path):
    model = Subclassed()
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(np.array([["a"] * 8] * 4), np.arange(4) % 2))
    with pytest.raises(ValueError, match="running the model on the first probe points to build it failed"):
        model.fit(X8, Y2, epochs=1, verbose=0, callbacks=[logger])
    assert not list(tmp_path.glob("events*"))
