"""GradientStatsLogger: its statistics against hand-computed values and a GradientTape
reference, the ways `fit` can run, and the gradient routes."""

import json
import logging
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import nnviz_tb
from nnviz_tb import gradient_stats, metadata, reader
from nnviz_tb.summary import NnvizWriter, write_blobs
from event_reading import read_run
from test_plugin_routes import ROUTE, get_json, make_client

ZT, RT = 1e-7, 1e-5


def gradient_records(run_dir):
    """`{epoch: (record dict, codes [T, S], step stats [M, G, 2])}` of a run."""
    records = {}
    for event in read_run(run_dir).values():
        if event["content"]["kind"] == metadata.KIND_GRADIENT_STATS:
            epoch = event["content"]["epoch"]
            info, codes, step_stats = event["steps"][epoch]
            records[epoch] = (metadata.decode_json(info), metadata.decode_array(codes),
                              metadata.decode_array(step_stats))
    return records


def fit_logged(model, x, y, log_dir, epochs=2, batch_size=4, **logger_args):
    logger = nnviz_tb.GradientStatsLogger(log_dir, **logger_args)
    model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0, callbacks=[logger])
    return gradient_records(log_dir)


def test_hand_computed_statistics_of_a_weight_that_flips_and_one_with_zero_gradient(tmp_path):
    # loss = (w0 * 1 + w1 * 0)^2: g0 = 2 w0, g1 = 0. SGD with lr 0.75 gives w0 <- -0.5 w0:
    # w0 = 1, -0.5, 0.25, -0.125 and g0 = 2, -1, 0.5, -0.25 at the 4 steps of the epoch.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
        1, use_bias=False, kernel_initializer=keras.initializers.Constant([[1.0], [2.0]]), name="lin")])
    model.compile(keras.optimizers.SGD(0.75), "mse")
    x, y = np.tile([[1.0, 0.0]], (4, 1)).astype("float32"), np.zeros((4, 1), "float32")
    records = fit_logged(model, x, y, str(tmp_path), epochs=1, batch_size=1, every_n_steps=1, heatmap_weights=2)
    record, codes, step_stats = records[1]
    stats = {k: v[0] for k, v in record["layer_stats"].items()}
    assert record["steps"] == record["measured"] == 4 and record["change_steps"] == 3
    assert stats["zero_count"] == 4 and stats["zero_fraction"] == 0.5  # w1, at each of 4 steps.
    assert stats["retained"] == 1 and stats["released"] == 0
    assert stats["sign_flips"] == 3 and stats["minima"] == 3 and stats["maxima"] == 0
    assert stats["grad_norm"] == pytest.approx((2 + 1 + 0.5 + 0.25) / 4)
    assert stats["weight_change"] == pytest.approx((1.5 + 0.75 + 0.375) / 3)
    assert stats["dead_units"] is None  # Not a ReLU layer.
    assert record["heatmap"]["layers"][0]["weights"] == ["lin/kernel[0, 0]", "lin/kernel[1, 0]"]
    large_pos, large_neg = metadata.SIGN_LARGE_POSITIVE, metadata.SIGN_LARGE_NEGATIVE
    np.testing.assert_array_equal(codes, [[large_pos, 0], [large_neg, 0], [large_pos, 0], [large_neg, 0]])
    np.testing.assert_allclose(step_stats[:, 1, 1], [2, 1, 0.5, 0.25])  # Layer row: V + 0.
    np.testing.assert_allclose(model.get_layer("lin").kernel.numpy().ravel(), [0.0625, 2.0])
    assert reader.read_gradient_stats(str(tmp_path)) == {1: record}


def reference_model():
    """Dense(3, relu) with a dead unit (bias -100) -> Dense(1); input 1 is 0 in the first
    batch of each epoch (its weights are released in the second), input 2 always 0."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((3,)),
        keras.layers.Dense(3, activation="relu", name="h",
                           bias_initializer=keras.initializers.Constant([0.5, 0.5, -100.0])),
        keras.layers.Dense(1, name="out"),
    ])
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, size=(16, 3)).astype("float32")
    x[:4, 1] = 0
    x[:, 2] = 0
    return model, x, (x @ [[1.0], [-2.0], [0.0]]).astype("float32")


def tape_steps(model, x, y, epochs, batch_size):
    """`[(grads, weights)]` of every step of an explicit GradientTape loop (dense float64 copies)."""
    optimizer = keras.optimizers.SGD(0.05, momentum=0.9)
    loss_fn = keras.losses.MeanSquaredError()
    steps = []
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            with tf.GradientTape() as tape:
                loss = loss_fn(y[start:start + batch_size], model(x[start:start + batch_size], training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            steps.append(([tf.convert_to_tensor(g).numpy().astype(np.float64) for g in grads],
                          [v.numpy().astype(np.float64) for v in model.trainable_variables]))
            optimizer.apply(grads, model.trainable_variables)
    return steps


def reference_records(steps, steps_per_epoch, every_n_steps, layers):
    """Per epoch `{"variable_stats", "layer_stats"}` by the documented rules, in plain NumPy.

    `layers`: `[(name, [variable indices], (kernel, bias) or None)]`.
    """
    num_vars = len(steps[0][0])
    pending = [np.zeros(g.shape, bool) for g in steps[0][0]]
    records = []
    for first in range(0, len(steps), steps_per_epoch):
        sums = np.zeros((num_vars, 7))  # zero, flips, minima, maxima, released, |g|^2, |dw|^2
        per_step = []
        nonzero = [np.zeros(g.shape, bool) for g in steps[0][0]]
        measured = [t for t in range(first, first + steps_per_epoch) if t % every_n_steps == 0]
        for t in measured:
            row = np.zeros((num_vars, 7))
            for i in range(num_vars):
                g, w = steps[t][0][i], steps[t][1][i]
                zero, large = np.abs(g) < ZT, np.abs(g) > RT
                if t > 0:
                    g0, w0 = steps[t - 1][0][i], steps[t - 1][1][i]
                    flip = (np.sign(g) * np.sign(g0) < 0) & ~zero & (np.abs(g0) >= ZT)
                    dw = w - w0
                else:
                    flip, dw = np.zeros(g.shape, bool), np.zeros(g.shape)
                row[i] = [zero.sum(), flip.sum(), (flip & (dw * g > 0)).sum(), (flip & (dw * g < 0)).sum(),
                          (pending[i] & large).sum(), (g ** 2).sum(), (dw ** 2).sum() if t > 0 else np.nan]
                pending[i] = (pending[i] | zero) & ~large
                nonzero[i] |= ~zero
            per_step.append(row)
        per_step = np.array(per_step)
        groups = [[i] for i in range(num_vars)] + [members for _, members, _ in layers]
        stats = []
        for members in groups:
            rows = per_step[:, members].sum(axis=1)
            size = sum(steps[0][0][i].size for i in members)
            retained = sum((~nonzero[i]).sum() for i in members)
            changes = rows[~np.isnan(rows[:, 6]), 6]
            stats.append({
                "zero_count": rows[:, 0].sum(), "zero_fraction": rows[:, 0].sum() / (size * len(measured)),
                "sign_flips": rows[:, 1].sum(), "minima": rows[:, 2].sum(), "maxima": rows[:, 3].sum(),
                "released": rows[:, 4].sum(), "retained": retained, "retained_fraction": retained / size,
                "grad_norm": np.sqrt(rows[:, 5]).mean(),
                "weight_change": np.sqrt(changes).mean() if len(changes) else None,
            })
        for (name, members, relu), layer_stats in zip(layers, stats[num_vars:]):
            if relu is not None:
                kernel, bias = relu
                alive = nonzero[kernel].any(axis=0) | nonzero[bias]
                layer_stats["dead_units"] = int((~alive).sum())
                layer_stats["dead_fraction"] = (~alive).sum() / alive.size
        records.append({"variable_stats": stats[:num_vars], "layer_stats": stats[num_vars:]})
    return records


def assert_matches(record, reference):
    for key in ("variable_stats", "layer_stats"):
        for i, expected in enumerate(reference[key]):
            for stat, value in expected.items():
                got = record[key][stat][i]
                if value is None or stat in ("grad_norm", "weight_change") or "fraction" in stat:
                    assert got == pytest.approx(value, rel=1e-4), (key, i, stat)
                else:
                    assert got == value, (key, i, stat)


@pytest.mark.parametrize("every_n_steps", [1, 2])
def test_every_statistic_equals_a_gradient_tape_reference(tmp_path, every_n_steps):
    model, x, y = reference_model()
    initial = [v.numpy() for v in model.trainable_variables]
    records = fit_logged(model, x, y, str(tmp_path), epochs=3, every_n_steps=every_n_steps)
    trained = [v.numpy() for v in model.trainable_variables]

    for v, value in zip(model.trainable_variables, initial):
        v.assign(value)
    steps = tape_steps(model, x, y, epochs=3, batch_size=4)
    for v, value in zip(model.trainable_variables, trained):  # The callback did not change training.
        np.testing.assert_allclose(v.numpy(), value, rtol=1e-5)
    layers = [("h", [0, 1], (0, 1)), ("out", [2, 3], None)]
    expected = reference_records(steps, 4, every_n_steps, layers)
    assert sorted(records) == [1, 2, 3]
    for epoch, reference in enumerate(expected, start=1):
        record = records[epoch][0]
        assert record["measured"] == 4 // every_n_steps
        assert_matches(record, reference)
    h = {k: v[0] for k, v in records[1][0]["layer_stats"].items()}
    assert h["dead_units"] == 1  # The unit with bias -100.
    assert h["released"] >= 1  # kernel[1, :] of the live units, at the second batch.
    assert records[1][0]["variable_stats"]["retained"][0] >= 3 + 2  # kernel[2, :], dead column.


def test_steps_per_execution_and_mixed_precision_observe_the_same_steps(tmp_path):
    model, x, y = reference_model()
    plain = fit_logged(model, x, y, str(tmp_path / "plain"), every_n_steps=1)
    model, x, y = reference_model()
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse", steps_per_execution=3)
    batched = fit_logged(model, x, y, str(tmp_path / "spe"), every_n_steps=1)
    for epoch in (1, 2):
        a, b = plain[epoch][0], batched[epoch][0]
        assert b["steps"] == b["measured"] == 4
        for stat in ("zero_count", "sign_flips", "released", "retained", "dead_units"):
            assert a["layer_stats"][stat] == b["layer_stats"][stat]
        np.testing.assert_allclose(a["layer_stats"]["grad_norm"], b["layer_stats"]["grad_norm"], rtol=1e-5)

    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model, x, y = reference_model()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    # A small initial loss scale, so that no step overflows and is skipped (those are not
    # applied, so not observed either).
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.05, momentum=0.9), initial_scale=64)
    model.compile(optimizer, "mse")
    mixed = fit_logged(model, x, y, str(tmp_path / "mixed"), every_n_steps=1)
    assert mixed[1][0]["measured"] == 4
    # Unscaled gradients: float16 rounding only, where the loss scale would multiply them by 64.
    np.testing.assert_allclose(mixed[1][0]["layer_stats"]["grad_norm"], plain[1][0]["layer_stats"]["grad_norm"],
                               rtol=0.05)
    assert "apply" not in vars(optimizer.inner_optimizer)  # Restored.


def test_sparse_gradients_of_an_embedding_equal_a_gradient_tape_reference(tmp_path):
    """An embedding's gradient is a `tf.IndexedSlices`: made dense on measured steps only, the
    sampled weights read from the slices (a row in a batch twice gets the sum of its slices)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(6, 2, name="emb"),
                              keras.layers.Flatten(), keras.layers.Dense(1, name="out")])
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "mse")
    x = np.array([[0, 1, 1], [2, 0, 0], [1, 1, 3], [0, 2, 2]] * 2, "int32")  # Rows 4 and 5 never occur.
    y = np.arange(8, dtype="float32")[:, None]
    initial = [v.numpy() for v in model.trainable_variables]
    record, codes, step_stats = fit_logged(model, x, y, str(tmp_path), epochs=1, batch_size=2,
                                           every_n_steps=1, heatmap_weights=12)[1]
    for v, value in zip(model.trainable_variables, initial):
        v.assign(value)
    dense = np.array([grads[0].ravel() for grads, _ in tape_steps(model, x, y, epochs=1, batch_size=2)])
    emb = record["heatmap"]["layers"][0]
    assert emb["weights"][0] == "emb/embeddings[0, 0]" and len(emb["columns"]) == 12
    np.testing.assert_array_equal(codes[:, emb["columns"]], gradient_stats.sign_codes(dense, ZT, RT))
    np.testing.assert_array_equal(step_stats[:, 0, 0], (np.abs(dense) < ZT).sum(axis=1))
    np.testing.assert_allclose(step_stats[:, 0, 1], np.linalg.norm(dense, axis=1), rtol=1e-5)
    assert (dense[:, 8:] == 0).all() and (dense[:, :6] != 0).all()  # Rows 4, 5 never; 0-2 always.


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.SGD(0.05, gradient_accumulation_steps=2),
    lambda: keras.optimizers.AdamW(1e-3, clipnorm=0.01),
    lambda: keras.optimizers.Lion(1e-3),
])
def test_other_optimizers_observe_the_gradients_of_each_step(tmp_path, optimizer):
    """Accumulation, clipping and other update rules act after the gradients are observed."""
    model, x, y = reference_model()
    initial = [v.numpy() for v in model.trainable_variables]
    model.compile(optimizer(), "mse")
    record, _, step_stats = fit_logged(model, x, y, str(tmp_path), epochs=1, every_n_steps=1)[1]
    for v, value in zip(model.trainable_variables, initial):
        v.assign(value)
    first = tape_steps(model, x, y, epochs=1, batch_size=4)[0][0]  # Before any update: the same.
    assert record["steps"] == record["measured"] == 4
    layer_h = len(first)  # Rows of `step_stats`: the 4 variables, then the layers.
    assert np.sqrt((first[0] ** 2).sum() + (first[1] ** 2).sum()) > 0.1  # So clipping would show.
    np.testing.assert_allclose(step_stats[0, layer_h, 1], np.sqrt((first[0] ** 2).sum() + (first[1] ** 2).sum()),
                               rtol=1e-5)


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tensorflow as tf, keras, nnviz_tb

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    rng = np.random.default_rng(0)
    x = rng.random((192, 8)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int32")
    for name, strategy in [("plain", tf.distribute.get_strategy()),
                           ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))]:
        keras.utils.set_random_seed(1)
        with strategy.scope():
            model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu", name="h"),
                                      keras.layers.Dense(2, name="o")])
            model.compile(keras.optimizers.SGD(0.1, momentum=0.9),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        logger = nnviz_tb.GradientStatsLogger(os.path.join(sys.argv[1], name), every_n_steps=2)
        model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0, callbacks=[logger])
    """
)


def test_mirrored_replicas_record_the_gradients_one_device_would(tmp_path):
    """Two replicas (two logical CPUs, so in a fresh process): the optimizer applies the sum
    of their gradients, and the statistics are those of one device on the whole batch."""
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    plain, mirrored = gradient_records(str(tmp_path / "plain")), gradient_records(str(tmp_path / "mirrored"))
    assert sorted(plain) == sorted(mirrored) == [1, 2]
    for epoch in (1, 2):
        (a, codes_a, _), (b, codes_b, _) = plain[epoch], mirrored[epoch]
        assert a["measured"] == b["measured"] == 3
        for stat in ("zero_count", "sign_flips", "minima", "maxima", "released", "retained", "dead_units"):
            assert a["layer_stats"][stat] == b["layer_stats"][stat], stat
        for stat in ("grad_norm", "weight_change"):
            np.testing.assert_allclose(a["layer_stats"][stat], b["layer_stats"][stat], rtol=1e-5)
        np.testing.assert_array_equal(codes_a, codes_b)


def test_training_without_the_logger_afterwards_is_not_observed_and_long_epochs_are_sampled(tmp_path):
    model, x, y = reference_model()
    fit_logged(model, x, y, str(tmp_path / "a"), epochs=1)
    assert "apply" not in vars(model.optimizer) and model.train_function is None
    model.fit(x, y, epochs=1, verbose=0)  # Rebuilds its training step without the tracker.
    records = fit_logged(model, x, y, str(tmp_path / "b"), epochs=1, every_n_steps=1, heatmap_steps=2)
    record, codes, step_stats = records[1]
    assert record["first_step"] == 0 and record["measured"] == 4
    # 4 steps in a 2-step heatmap: one step in 2, the last of each pair; 2 of 4 measured steps.
    assert record["heatmap"]["steps"] == [1, 3] and codes.shape == (2, 12 + 4)  # All weights: 64 > 12.
    assert record["measured_steps"] == [0, 1] and step_stats.shape == (2, 4 + 2, 2)


class ManualStep(keras.Model):
    """A custom train_step that updates the weights without the optimizer."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(self(x, training=True) - y))
        for v, g in zip(self.trainable_variables, tape.gradient(loss, self.trainable_variables)):
            v.assign_sub(0.01 * g)
        return {"loss": loss}


def test_a_custom_train_step_without_the_optimizer_is_reported(tmp_path, caplog):
    inputs = keras.Input((3,))
    model = ManualStep(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd")
    _, x, y = reference_model()
    with caplog.at_level(logging.WARNING):
        records = fit_logged(model, x, y, str(tmp_path), epochs=2)
    assert records == {}
    warnings = [r.getMessage() for r in caplog.records if "GradientStatsLogger" in r.getMessage()]
    assert len(warnings) == 1 and "no training step called the optimizer" in warnings[0]


def test_scalars_go_to_the_scalars_tab_grouped_by_layer(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    model, x, y = reference_model()
    fit_logged(model, x, y, str(tmp_path), epochs=2)
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    tags = set(acc.Tags()["tensors"])
    assert metadata.gradient_scalar_tag("h", "zero_fraction") == "gradients/h/zero_fraction"
    assert {"gradients/h/%s" % s for s in gradient_stats.SCALARS} <= tags
    assert "gradients/out/dead_fraction" not in tags  # Not a ReLU layer.
    assert [e.step for e in acc.Tensors("gradients/h/grad_norm")] == [1, 2]


@pytest.mark.parametrize("args, message", [
    (dict(log_dir=3), "'log_dir'"),
    (dict(zero_threshold=-1.0), "'zero_threshold'"),
    (dict(zero_threshold=float("nan")), "'zero_threshold'"),
    (dict(release_threshold=1e-9), "'release_threshold' parameter must be a finite number >= 1e-07"),
    (dict(every_n_steps=0), "'every_n_steps'"),
    (dict(heatmap_weights=-1), "'heatmap_weights'"),
    (dict(heatmap_weights=True), "'heatmap_weights'"),
    (dict(heatmap_steps=2.5), "'heatmap_steps'"),
])
def test_bad_arguments_raise_before_training(tmp_path, args, message):
    with pytest.raises(ValueError, match=message):
        nnviz_tb.GradientStatsLogger(**dict({"log_dir": str(tmp_path)}, **args))


def test_layout_samples_evenly_spaced_weights_of_each_layer():
    layout = gradient_stats.make_layout(
        ["a/kernel", "a/bias", "b/kernel"], ["a", "a", "b"], [(4, 3), (3,), (2,)], {"a": (0, 1)}, 4
    )
    assert [layer["units"] for layer in layout.layers] == [3, None]
    assert layout.heatmap[0]["weights"] == ["a/kernel[0, 0]", "a/kernel[1, 2]", "a/kernel[3, 0]", "a/bias[2]"]
    assert layout.heatmap[1]["weights"] == ["b/kernel[0]", "b/kernel[1]"]
    assert [s.tolist() for s in layout.samples] == [[0, 5, 9], [2], [0, 1]]
    assert [layer["columns"] for layer in layout.heatmap] == [[0, 1, 2, 3], [4, 5]]


# The routes.

@pytest.fixture(scope="module")
def gradient_logdir(tmp_path_factory):
    """Run `ref`: the reference model, 3 epochs of 4 steps, every step measured."""
    root = tmp_path_factory.mktemp("gradient_logs")
    model, x, y = reference_model()
    fit_logged(model, x, y, str(root / "ref"), epochs=3, every_n_steps=1, heatmap_weights=5)
    return str(root)


@pytest.fixture(scope="module")
def gradient_client(gradient_logdir):
    return make_client(gradient_logdir)[0]


def test_runs_list_the_gradient_epochs_and_layers(gradient_client):
    status, runs = get_json(gradient_client, "/runs")
    assert status == 200
    assert runs["ref"]["has_activations"] is False
    assert runs["ref"]["gradients"] == {"epochs": [1, 2, 3], "layers": ["h", "out"]}


def test_gradients_route_holds_every_statistic_per_layer_and_epoch(gradient_client, gradient_logdir):
    status, body = get_json(gradient_client, "/gradients?run=ref")
    assert status == 200
    assert body["epochs"] == [1, 2, 3] and body["layers"] == ["h", "out"]
    assert body["variables"] == ["h/kernel", "h/bias", "out/kernel", "out/bias"]
    assert set(body["layer_stats"]) == set(gradient_stats.LAYER_STATS)
    records = gradient_records(gradient_logdir + "/ref")
    for stat, rows in body["layer_stats"].items():
        assert np.shape(rows) == (2, 3)
        assert [rows[0][e - 1] for e in (1, 2, 3)] == [records[e][0]["layer_stats"][stat][0] for e in (1, 2, 3)]
    assert body["layer_stats"]["dead_units"][1] == [None] * 3


def test_gradients_csv_export(gradient_client):
    response = gradient_client.get(ROUTE + "/gradients?run=ref&format=csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    lines = response.get_data(as_text=True).splitlines()
    header = lines[0].split(",")
    assert header[:5] == ["epoch", "scope", "name", "steps", "measured"]
    assert len(lines) == 1 + 3 * 2 + 3 * 4  # Epochs x layers, then epochs x variables.
    first = dict(zip(header, lines[1].split(",")))
    assert first["scope"] == "layer" and first["name"] == "h" and first["dead_units"] == "1"


def test_sign_heatmap_route_has_one_row_per_sampled_weight_and_one_column_per_step(gradient_client):
    status, body = get_json(gradient_client, "/gradient_signs?run=ref&layer=h&epoch=2")
    assert status == 200
    codes = np.array(body["codes"])
    assert codes.shape == (5, 4) == (len(body["weights"]), len(body["steps"]))
    assert body["steps"] == [4, 5, 6, 7] and body["steps_in_epoch"] == 4
    assert set(codes.ravel()) <= set(range(len(metadata.SIGN_NAMES)))
    assert len(body["zero_fraction"]) == len(body["grad_norm"]) == len(body["measured_steps"]) == 4


@pytest.mark.parametrize("path, status", [
    ("/gradients", 400),
    ("/gradients?run=ref&format=xml", 400),
    ("/gradients?run=nope", 404),
    ("/gradient_signs?run=ref&layer=h", 400),
    ("/gradient_signs?run=ref&layer=h&epoch=-1", 400),
    ("/gradient_signs?run=ref&epoch=1", 400),
    ("/gradient_signs?run=ref&layer=<b>&epoch=1", 404),
    ("/gradient_signs?run=ref&layer=h&epoch=99", 404),
    ("/gradient_signs?run=nope&layer=h&epoch=1", 404),
])
def test_bad_gradient_requests_get_json_errors(gradient_client, path, status):
    response = gradient_client.get(ROUTE + path)
    assert response.status_code == status
    assert set(json.loads(response.get_data())) == {"error"}


def test_runs_without_gradients_say_so(gradient_logdir):
    writer = NnvizWriter(gradient_logdir + "/other")
    writer.submit(lambda: write_blobs(
        "nnviz/other/epoch_00000", [b"{}"], 0, metadata.create_summary_metadata("other_kind", epoch=0)
    ))
    writer.close()
    client, _ = make_client(gradient_logdir)
    status, runs = get_json(client, "/runs")
    assert status == 200 and runs["other"]["gradients"] is None
    status, body = get_json(client, "/gradients?run=other")
    assert status == 404 and "no gradient statistics" in body["error"]
