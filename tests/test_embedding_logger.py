"""EmbeddingLogger and nnviz_tb.projector: the Projector's files, read back as TensorBoard reads them."""

import io
import math
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from google.protobuf import text_format
from PIL import Image
from tensorboard.plugins import projector as tb_projector
from tensorboard.plugins.projector import projector_plugin

import nnviz_tb
from conftest import digits, train_digits_mlp
from nnviz_tb import projector
from nnviz_tb.analysis.correlation import evenly_spaced


def read_config(log_dir):
    path = os.path.join(projector.assets_dir(log_dir), projector.CONFIG_NAME)
    with open(path) as f:
        return text_format.Parse(f.read(), tb_projector.ProjectorConfig())


def read_tensor(log_dir, embedding):
    """The tensor as the Projector reads it: TSV text, or binary float32 when that fails to decode."""
    path = os.path.join(projector.assets_dir(log_dir), embedding.tensor_path)
    try:
        return projector_plugin._read_tensor_tsv_file(path)
    except UnicodeDecodeError:
        return projector_plugin._read_tensor_binary_file(path, embedding.tensor_shape)


def read_metadata(log_dir, embedding):
    with open(os.path.join(projector.assets_dir(log_dir), embedding.metadata_path)) as f:
        return [line.rstrip("\n").split("\t") for line in f]


def layer_output(model, name, x):
    return keras.Model(model.inputs, model.get_layer(name).output).predict(x, verbose=0)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`(log_dir, model, logger)` after 3 epochs on 500 digits, class names given."""
    log_dir = str(tmp_path_factory.mktemp("emb") / "mlp")
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    model, logger = train_digits_mlp(log_dir, epochs=3, logger_class="EmbeddingLogger", class_names=names)
    return log_dir, model, logger


def test_one_embedding_per_layer_and_epoch(run):
    log_dir, _, _ = run
    names = [e.tensor_name for e in read_config(log_dir).embeddings]
    assert names == ["%s @ epoch %03d" % (layer, step)
                     for layer in ("hidden1", "hidden2", "output") for step in range(4)]
    assert not [f for f in os.listdir(projector.assets_dir(log_dir)) if f.endswith(".tmp")]
    assert [f for f in os.listdir(log_dir) if f.startswith("events.out.tfevents")]  # TensorBoard lists the run.


def test_tensors_are_the_layer_outputs(run):
    log_dir, model, logger = run
    x = logger.probe_x
    embeddings = {e.tensor_name: e for e in read_config(log_dir).embeddings}
    for layer, dim in (("hidden1", 32), ("hidden2", 16), ("output", 10)):
        embedding = embeddings["%s @ epoch 003" % layer]
        assert embedding.tensor_path.endswith(".bin") and list(embedding.tensor_shape) == [500, dim]
        np.testing.assert_allclose(read_tensor(log_dir, embedding), layer_output(model, layer, x), atol=1e-5)
    before, after = (read_tensor(log_dir, embeddings["hidden2 @ epoch %03d" % s]) for s in (0, 3))
    assert np.abs(before - after).max() > 0.1  # Each epoch holds its own activations.


def test_an_activation_logger_of_the_same_probe_shares_the_forward_pass(tmp_path, monkeypatch):
    from event_reading import read_run
    from nnviz_tb import layer_outputs, metadata

    calls = []
    original = layer_outputs.LayerOutputs.__call__
    monkeypatch.setattr(layer_outputs.LayerOutputs, "__call__",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    x, y = digits()
    same = nnviz_tb.ActivationLogger(str(tmp_path / "a"), probe=(x[:300].copy(), y[:300]))  # An equal copy.
    other_layers = nnviz_tb.ActivationLogger(str(tmp_path / "b"), probe=(x[:300], y[:300]), layers=["hidden1"])
    model, logger = train_digits_mlp(str(tmp_path / "a"), epochs=2, probe_size=300, logger_class="EmbeddingLogger",
                                     callbacks=[same, other_layers])
    assert len(calls) == 2 * 3  # Epochs 0, 1, 2: one pass shared by the EmbeddingLogger and `same`, one of its own.
    embeddings = {e.tensor_name: e for e in read_config(str(tmp_path / "a")).embeddings}
    records = read_run(str(tmp_path / "a"))
    recorded = metadata.decode_array(records[metadata.activations_tag("hidden2", 2)]["steps"][2][0])
    expected = layer_output(model, "hidden2", x[:300])
    np.testing.assert_allclose(read_tensor(str(tmp_path / "a"), embeddings["hidden2 @ epoch 002"]), expected, atol=1e-5)
    np.testing.assert_allclose(recorded, expected, atol=2e-2)  # float16 in the nnviz summary.


def test_metadata_columns(run):
    log_dir, model, logger = run
    embedding = {e.tensor_name: e for e in read_config(log_dir).embeddings}["hidden1 @ epoch 003"]
    rows = read_metadata(log_dir, embedding)
    assert rows[0] == ["label", "predicted", "correct", "index"] and len(rows) == 501
    predicted = model.predict(logger.probe_x, verbose=0).argmax(axis=1)
    names = np.array(logger.class_names)
    assert [r[0] for r in rows[1:]] == list(names[logger.probe_labels])
    assert [r[1] for r in rows[1:]] == list(names[predicted])
    assert [r[2] for r in rows[1:]] == ["yes" if c else "no" for c in predicted == logger.probe_labels]
    assert [r[3] for r in rows[1:]] == [str(i) for i in range(500)]


def test_sprite_holds_the_probe_thumbnails_in_order(run):
    log_dir, _, logger = run
    embedding = read_config(log_dir).embeddings[0]
    assert embedding.sprite.image_path == "sprite.png" and list(embedding.sprite.single_image_dim) == [8, 8]
    sheet = np.asarray(Image.open(os.path.join(projector.assets_dir(log_dir), "sprite.png")))
    cols = math.ceil(math.sqrt(500))
    assert sheet.shape[:2] == (math.ceil(500 / cols) * 8, cols * 8)
    for i in (0, 1, 57, 499):
        r, c = divmod(i, cols)
        np.testing.assert_array_equal(sheet[r * 8:(r + 1) * 8, c * 8:(c + 1) * 8].reshape(8, 8), logger.thumbnails[i])


@pytest.mark.parametrize("n, side, rgb, expected_side", [(5000, 28, False, 28), (70000, 32, True, 30)])
def test_sprite_fits_the_projector_limit(n, side, rgb, expected_side):
    rng = np.random.default_rng(0)
    thumbnails = rng.integers(0, 256, (n, side, side) + ((3,) if rgb else ()), dtype=np.uint8)
    png, dim = projector.sprite_sheet(thumbnails)
    image = Image.open(io.BytesIO(png))
    cols = math.ceil(math.sqrt(n))
    assert dim == [expected_side, expected_side]
    assert image.size == (cols * expected_side, math.ceil(n / cols) * expected_side)
    assert max(image.size) <= projector.MAX_SPRITE_SIDE and image.mode == ("RGB" if rgb else "L")


def test_tensor_bytes_that_decode_as_utf8_are_written_as_exact_tsv(tmp_path):
    values = np.zeros((4, 3), np.float32)  # A dead layer: zero bytes are valid UTF-8.
    values[1, 2] = 0.5  # 0x3F000000: also valid UTF-8.
    data, extension = projector.encode_tensor(values)
    assert extension == ".tsv"
    (tmp_path / "t.tsv").write_bytes(data)
    np.testing.assert_array_equal(projector_plugin._read_tensor_tsv_file(str(tmp_path / "t.tsv")), values)
    values = np.random.default_rng(0).normal(size=(50, 7)).astype(np.float32)
    data, extension = projector.encode_tensor(values)
    assert extension == ".bin" and data == values.astype("<f4").tobytes()


def test_a_text_line_before_the_first_non_utf8_byte_makes_a_tsv(tmp_path):
    values = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    values[0, :2] = 0.0
    values[0, 2] = np.frombuffer(bytes([0x3D, 0x0A, 0x8A, 0x3E]), "<f4")[0]  # 0.27: a newline byte, then 0x8A.
    data = values.tobytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # Not UTF-8 as a whole, yet the Projector cannot read it as binary:
    (tmp_path / "t.bin").write_bytes(data)
    with pytest.raises(ValueError, match="could not convert"):
        projector_plugin._read_tensor_tsv_file(str(tmp_path / "t.bin"))
    assert not projector.read_as_binary(data)
    encoded, extension = projector.encode_tensor(values)
    (tmp_path / "t.tsv").write_bytes(encoded)
    assert extension == ".tsv"
    np.testing.assert_array_equal(projector_plugin._read_tensor_tsv_file(str(tmp_path / "t.tsv")), values)


def test_dead_layer_is_served_as_the_projector_reads_it(tmp_path):
    x, y = digits()
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu", name="dead",
                                                                      kernel_initializer="zeros"),
                              keras.layers.Dense(10, activation="softmax", name="output")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    logger = nnviz_tb.EmbeddingLogger(str(tmp_path), probe=(x[:40], y[:40]), layers=["dead"])
    model.fit(x[:64], y[:64], epochs=1, verbose=0, callbacks=[logger])
    embedding = read_config(str(tmp_path)).embeddings[0]
    assert embedding.tensor_path.endswith(".tsv")
    np.testing.assert_array_equal(read_tensor(str(tmp_path), embedding), np.zeros((40, 8)))


def test_non_image_inputs_get_no_sprite(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 5)).astype("float32"), np.arange(30) % 2
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, name="h"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.EmbeddingLogger(str(tmp_path), probe=(x, y))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    config = read_config(str(tmp_path))
    assert {e.tensor_name for e in config.embeddings} == {"h @ epoch 000", "h @ epoch 001",
                                                          "out @ epoch 000", "out @ epoch 001"}
    assert not any(e.HasField("sprite") for e in config.embeddings)
    assert "sprite.png" not in os.listdir(projector.assets_dir(str(tmp_path)))


def test_wide_layer_keeps_evenly_spaced_features(tmp_path):
    x, y = digits()
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(300, name="wide"),
                              keras.layers.Dense(10, activation="softmax", name="output")])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.EmbeddingLogger(str(tmp_path), probe=(x[:50], y[:50]), layers=["wide"], max_dim=64)
    model.fit(x[:64], y[:64], epochs=1, verbose=0, callbacks=[logger])
    embedding = read_config(str(tmp_path)).embeddings[-1]
    assert list(embedding.tensor_shape) == [50, 64]
    expected = layer_output(model, "wide", x[:50])[:, evenly_spaced(300, 64)]
    np.testing.assert_allclose(read_tensor(str(tmp_path), embedding), expected, atol=1e-5)


def test_conv_feature_maps_are_reduced_as_activation_logger_does(tmp_path):
    x, y = digits()
    images = x.reshape(-1, 8, 8, 1)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(6, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax", name="output")])
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = nnviz_tb.EmbeddingLogger(str(tmp_path), probe=(images[:20], y[:20]), layers=["conv"])
    model.fit(images[:64], y[:64], epochs=1, verbose=0, callbacks=[logger])
    embedding = read_config(str(tmp_path)).embeddings[-1]
    expected = layer_output(model, "conv", images[:20]).mean(axis=(1, 2))
    np.testing.assert_allclose(read_tensor(str(tmp_path), embedding), expected, atol=1e-5)


def test_every_n_epochs_and_resume(tmp_path):
    log_dir = str(tmp_path / "run")
    model, _ = train_digits_mlp(log_dir, epochs=3, probe_size=30, logger_class="EmbeddingLogger",
                                layers=["hidden2"], every_n_epochs=2)
    assert [e.tensor_name for e in read_config(log_dir).embeddings] == [
        "hidden2 @ epoch 000", "hidden2 @ epoch 002", "hidden2 @ epoch 003"]
    x, y = digits()
    resumed = nnviz_tb.EmbeddingLogger(log_dir, probe=(x[:30], y[:30]), layers=["hidden2"])
    model.fit(x, y, initial_epoch=3, epochs=4, verbose=0, callbacks=[resumed])
    assert [e.tensor_name for e in read_config(log_dir).embeddings][-2:] == [
        "hidden2 @ epoch 003", "hidden2 @ epoch 004"]
    assert len(read_config(log_dir).embeddings) == 4
    train_digits_mlp(log_dir, epochs=1, probe_size=30, logger_class="EmbeddingLogger", layers=["hidden1"])
    assert [e.tensor_name for e in read_config(log_dir).embeddings] == [  # A new run from epoch 0.
        "hidden1 @ epoch 000", "hidden1 @ epoch 001"]


def test_a_killed_process_keeps_the_epochs_written(tmp_path):
    script = textwrap.dedent(
        """
        import os, sys, keras
        sys.path.insert(0, %r)
        from conftest import digits
        import nnviz_tb

        class Crash(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    os._exit(3)  # Like a killed process: no cleanup at all.

        x, y = digits()
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, name="h"), keras.layers.Dense(10)])
        model.compile("sgd", "mse")
        logger = nnviz_tb.EmbeddingLogger(%r, probe=(x[:300], y[:300]))
        model.fit(x[:64], keras.utils.to_categorical(y[:64], 10), epochs=5, verbose=0, callbacks=[logger, Crash()])
        """
        % (os.path.dirname(os.path.abspath(__file__)), str(tmp_path))
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == 3, result.stderr.decode()[-2000:]
    embeddings = read_config(str(tmp_path)).embeddings  # A whole config, never a half-written one.
    steps = sorted({int(e.tensor_name.rsplit(" ", 1)[1]) for e in embeddings})
    assert steps in ([0, 1], [0, 1, 2])  # Step 2 was being written when the process died.
    assert len(embeddings) == 2 * len(steps)
    for embedding in embeddings:
        assert read_tensor(str(tmp_path), embedding).shape == tuple(embedding.tensor_shape)
        assert len(read_metadata(str(tmp_path), embedding)) == 301


def test_a_failed_write_warns_once_and_training_goes_on(tmp_path, caplog):
    (tmp_path / "plugins").write_text("a file where the Projector's directory would be")
    model, _ = train_digits_mlp(str(tmp_path), epochs=2, probe_size=20, logger_class="EmbeddingLogger")
    assert caplog.text.count("could not write") == 1
    assert len(model.history.history["loss"]) == 2


def test_the_plan_names_the_storage_and_the_sprite(tmp_path, capsys):
    train_digits_mlp(str(tmp_path), epochs=1, probe_size=20, logger_class="EmbeddingLogger")
    out = capsys.readouterr().out
    assert "Projector: 3 embeddings per recorded epoch" in out and "(20 points x 58 values x 4 bytes)" in out
    assert "sprite of 20 thumbnails of 8 x 8 px" in out


@pytest.mark.parametrize("kwargs, message", [
    ({"every_n_epochs": 0}, "'every_n_epochs' parameter must be an integer >= 1. Got 0"),
    ({"sprite": "yes"}, "'sprite' parameter must be True or False. Got 'yes'"),
    ({"layers": "hidden1"}, "'layers' parameter must be a list of layer names"),
    ({"image_shape": (5, 5)}, "'image_shape' parameter must have as many values as one probe input"),
    ({"max_dim": -1}, "'max_dim' parameter must be an integer >= 1"),
])
def test_bad_arguments_fail_at_once(tmp_path, kwargs, message):
    x, y = digits()
    with pytest.raises(ValueError, match=message):
        nnviz_tb.EmbeddingLogger(str(tmp_path), probe=(x[:10], y[:10]), **kwargs)


def test_bad_probe_and_unknown_layer_fail_before_training(tmp_path):
    x, y = digits()
    with pytest.raises(ValueError, match="same length"):
        nnviz_tb.EmbeddingLogger(str(tmp_path), probe=(x[:10], y[:9]))
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, name="out")])
    model.compile("adam", "mse")
    logger = nnviz_tb.EmbeddingLogger(str(tmp_path), probe=(x[:10], y[:10]), layers=["nope"])
    with pytest.raises(ValueError, match="does not have.*nope"):
        model.fit(x[:10], np.zeros((10, 10)), epochs=1, verbose=0, callbacks=[logger])
    assert not os.listdir(tmp_path)


def test_instance_serves_two_fit_calls_in_two_directories(tmp_path):
    model, logger = train_digits_mlp(str(tmp_path / "a"), epochs=1, probe_size=20, logger_class="EmbeddingLogger",
                                     layers=["hidden1"])
    x, y = digits()
    logger.log_dir = str(tmp_path / "b")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    for run in ("a", "b"):
        assert [e.tensor_name for e in read_config(str(tmp_path / run)).embeddings] == [
            "hidden1 @ epoch 000", "hidden1 @ epoch 001"]
    assert os.path.exists(os.path.join(projector.assets_dir(str(tmp_path / "b")), "sprite.png"))
