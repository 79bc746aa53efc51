"""SaliencyLogger and nnviz_tb.saliency: the maps against values known by hand, and the image summaries of a fit."""

import glob
import logging

import keras
import numpy as np
import pytest
import tensorflow as tf

import nnviz_tb
from event_reading import read_run
from nnviz_tb import metadata, saliency


def linear_model(weights, bias=0.5):
    model = keras.Sequential([keras.Input((weights.size,)), keras.layers.Dense(1, name="score")])
    model.layers[0].set_weights([weights.reshape(-1, 1).astype("float32"), np.array([bias], "float32")])
    return model


def read_images(log_dir, descriptions=None):
    """`{tag: {step: (height, width, channels)}}` of the image summaries in `log_dir`'s event files
    (and their descriptions into `descriptions`, `{tag: {step: str}}`, if given)."""
    found = {}
    for path in glob.glob(log_dir + "/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    blobs = tf.make_ndarray(value.tensor)
                    image = tf.io.decode_png(blobs[2]).numpy()
                    found.setdefault(value.tag, {})[event.step] = image.shape
                    if descriptions is not None:
                        descriptions.setdefault(value.tag, {})[event.step] = value.metadata.summary_description
    return found


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_gradient_of_a_linear_model_is_its_weights(rng):
    w = rng.normal(size=64)
    model = linear_model(w)
    x = rng.uniform(size=(5, 64)).astype("float32")
    target = tf.zeros(5, tf.int32)
    grads = saliency.attribution_fn(model, "gradient")(tf.constant(x), target).numpy()
    np.testing.assert_allclose(grads, np.tile(w, (5, 1)), rtol=1e-5, atol=1e-6)
    # SmoothGrad of a linear model: the mean of equal gradients, whatever the noise.
    smooth = saliency.attribution_fn(model, "smoothgrad", smoothgrad_samples=4)(tf.constant(x), target).numpy()
    np.testing.assert_allclose(smooth, np.tile(w, (5, 1)), rtol=1e-5, atol=1e-6)
    # Integrated Gradients of a linear model: gradient x (input - baseline), exactly.
    base = np.full(64, 0.25, "float32")
    ig = saliency.attribution_fn(model, "integrated_gradients", baseline=base, ig_steps=3)(tf.constant(x), target)
    np.testing.assert_allclose(ig.numpy(), w * (x - base), rtol=1e-4, atol=1e-6)


def centered_logit(probabilities, target):
    logs = np.log(probabilities)
    return (logs - logs.mean(axis=1, keepdims=True))[np.arange(len(target)), target]


def test_the_score_of_a_softmax_output_is_its_centered_logit(rng):
    w = rng.normal(size=(64, 3)).astype("float32")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(3, activation="softmax")])
    model.layers[0].set_weights([w * 2, np.zeros(3, "float32")])  # Sure of itself: p saturates.
    x = rng.uniform(size=(5, 64)).astype("float32")
    target = np.array([0, 1, 2, 0, 1], "int32")
    assert saliency.softmax_output(model) and not saliency.softmax_output(linear_model(w[:, 0]))
    assert model(x).numpy().min() < 1e-12  # Where p saturates, its gradient vanishes.
    grads = saliency.attribution_fn(model, "gradient")(tf.constant(x), tf.constant(target)).numpy()
    np.testing.assert_allclose(grads, 2 * (w - w.mean(axis=1, keepdims=True))[:, target].T, rtol=1e-4, atol=1e-4)
    probs = saliency.attribution_fn(model, "gradient", centered_logit=False)(tf.constant(x), tf.constant(target))
    assert np.abs(probs.numpy()).max() < 1e-2 * np.abs(grads).max()


def test_integrated_gradients_sum_to_the_score_difference(rng):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="tanh"),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    x = rng.uniform(size=(6, 8, 8, 1)).astype("float32")
    target = np.arange(6, dtype="int32") % 3
    ig = saliency.attribution_fn(model, "integrated_gradients", ig_steps=64)(tf.constant(x), tf.constant(target))
    scores = centered_logit(model(x).numpy(), target) - centered_logit(model(np.zeros_like(x)).numpy(), target)
    sums = ig.numpy().reshape(6, -1).sum(axis=1)
    assert np.abs(scores).min() > 1e-3
    np.testing.assert_allclose(sums, scores, rtol=0.02, atol=1e-4)
    rough = saliency.attribution_fn(model, "integrated_gradients", ig_steps=1)(tf.constant(x), tf.constant(target))
    assert np.abs(sums - scores).max() < np.abs(rough.numpy().reshape(6, -1).sum(axis=1) - scores).max()


def hand_set_cam_model():
    """A 1x1 conv: channel 0 is the input, channel 1 a constant 1; the score is channel 0's mean."""
    inputs = keras.Input((8, 8, 1))
    maps = keras.layers.Conv2D(2, 1, name="cam_conv")(inputs)
    score = keras.layers.Dense(1, name="score")(keras.layers.Flatten()(maps))
    model = keras.Model(inputs, score)
    model.get_layer("cam_conv").set_weights([np.array([[[[1.0, 0.0]]]], "float32"), np.array([0.0, 1.0], "float32")])
    weights = np.zeros((8, 8, 2), "float32")
    weights[..., 0] = 1 / 64
    model.get_layer("score").set_weights([weights.reshape(128, 1), np.zeros(1, "float32")])
    return model


def test_gradcam_lights_the_region_the_conv_channel_sees():
    model = hand_set_cam_model()
    x = np.zeros((2, 8, 8, 1), "float32")
    x[0, 1:4, 1:3] = 1.0  # A blob top left.
    x[1, 5:7, 4:7] = 0.5  # A fainter one bottom right.
    cam = saliency.attribution_fn(model, "gradcam")(tf.constant(x), tf.zeros(2, tf.int32)).numpy()
    assert cam.shape == (2, 8, 8)
    # Channel weights: mean gradient, 1/64 for channel 0 and 0 for the constant channel 1 (else all would light).
    np.testing.assert_allclose(cam, x[..., 0] / 64, rtol=1e-5, atol=1e-8)
    for i, region in enumerate([(slice(1, 4), slice(1, 3)), (slice(5, 7), slice(4, 7))]):
        inside = np.zeros((8, 8), bool)
        inside[region] = True
        assert cam[i][inside].min() > 0 and cam[i][~inside].max() == 0
    assert saliency.conv_layer(model).name == "cam_conv"


def test_grid_shape_and_colours():
    ones = np.ones((3, 8, 8))
    image = saliency.grid(ones, 0 * ones, ones, -ones, 0 * ones, scale=1.0)
    k = saliency.MIN_PANEL_SIDE // 8
    assert image.shape == (3 * 8 * k + 2 * 2, 5 * 8 * k + 4 * 2, 3)
    np.testing.assert_allclose(image[8 * k:8 * k + 2], 0.5)  # The gap between rows: grey.
    first = image[:8 * k]
    cols = [first[:, i * (8 * k + 2):i * (8 * k + 2) + 8 * k].reshape(-1, 3) for i in range(5)]
    np.testing.assert_allclose(cols[0], 1.0)  # Source: white.
    np.testing.assert_allclose(cols[1], 0.0)  # Baseline: black.
    np.testing.assert_allclose(cols[2][0], [1, 0, 0])  # Positive: red.
    np.testing.assert_allclose(cols[3][0], [0, 0, 1])  # Negative: blue.
    np.testing.assert_allclose(cols[4][0], [1, 1, 1])  # Zero: white.


@pytest.mark.parametrize("kwargs, message", [
    (dict(images=np.zeros((3, 5))), "image_shape"),
    (dict(images=np.zeros((100, 8, 8))), "1 to 64 images"),
    (dict(images=[[1, 2]]), "'images' parameter"),
    (dict(labels=[1, 2]), "'labels' parameter"),
    (dict(labels=[-1, 0, 0, 0]), "'labels' parameter"),
    (dict(methods=("gradient", "lime")), "'methods' parameter"),
    (dict(methods=()), "'methods' parameter"),
    (dict(methods=("gradient", "gradient")), "'methods' parameter"),
    (dict(baseline="blur"), "'baseline' parameter"),
    (dict(baseline=np.zeros(3)), "'baseline' parameter"),
    (dict(layer=3), "'layer' parameter"),
    (dict(every_n_epochs=0), "'every_n_epochs' parameter"),
    (dict(ig_steps=0), "'ig_steps' parameter"),
    (dict(smoothgrad_samples=1.5), "'smoothgrad_samples' parameter"),
    (dict(noise_level=-1), "'noise_level' parameter"),
    (dict(image_shape=(4, 4)), "'image_shape' parameter"),
])
def test_bad_arguments_raise_when_created(tmp_path, kwargs, message):
    args = {"images": np.zeros((4, 8, 8)), **kwargs}
    with pytest.raises(ValueError, match=message):
        nnviz_tb.SaliencyLogger(str(tmp_path), **args)


def test_gradcam_without_conv_or_a_bad_layer_raises_before_fit(tmp_path):
    logger = nnviz_tb.SaliencyLogger(str(tmp_path), np.zeros((2, 64)), methods=("gradcam",))
    with pytest.raises(ValueError, match="no.*convolution|none"):
        logger.set_model(linear_model(np.ones(64)))
    cam_model = hand_set_cam_model()
    for layer, message in [("nope", "must name a layer"), ("score", r"\[N, h, w, C\]")]:
        logger = nnviz_tb.SaliencyLogger(str(tmp_path), np.zeros((2, 8, 8, 1)), methods=("gradcam",), layer=layer)
        with pytest.raises(ValueError, match=message):
            logger.set_model(cam_model)
    logger = nnviz_tb.SaliencyLogger(str(tmp_path), np.zeros((2, 8, 8, 1)), labels=[0, 4])
    with pytest.raises(ValueError, match="output"):
        logger.set_model(cam_model)


def small_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv_a"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(8, 3, activation="relu", name="conv_b"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def test_fit_writes_one_grid_per_method_and_epoch(tmp_path):
    from nnviz_tb import datasets

    keras.utils.set_random_seed(0)
    (x, y), (xp, yp) = datasets.mnist_split(None, 512, 6)
    model = small_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    methods = saliency.METHODS
    logger = nnviz_tb.SaliencyLogger(str(tmp_path / "cnn"), xp[..., None], yp, methods=methods, ig_steps=8,
                                     smoothgrad_samples=4)
    model.fit(x[..., None], y, epochs=2, batch_size=64, verbose=0, callbacks=[logger])
    descriptions = {}
    found = read_images(str(tmp_path / "cnn"), descriptions)
    side = 28 * (saliency.MIN_PANEL_SIDE // 28)
    expected = (6 * side + 5 * 2, 5 * side + 4 * 2, 3)
    assert found == {saliency.tag(m): {0: expected, 1: expected, 2: expected} for m in methods}
    assert logger.layer_ == "conv_b" and set(logger.scales_) == set(methods)
    assert all(s > 0 and np.isfinite(s) for s in logger.scales_.values())
    for method in methods:  # Each step's scale, never smaller than the one before; the last is the logger's.
        by_step = descriptions[saliency.tag(method)]
        prefix = "Rows: images. Columns: source, baseline, saliency, delta, overlay. Colour scale: +-"
        assert all(d.startswith(prefix) for d in by_step.values())
        scales = [float(by_step[step][len(prefix):-1]) for step in sorted(by_step)]
        assert scales == sorted(scales) and scales[-1] == float("%.4g" % logger.scales_[method])
    # For the nnviz tab: per method and epoch, the description, the images' keys and one PNG each.
    records = read_run(str(tmp_path / "cnn"))
    assert set(records) == {metadata.saliency_tag(m, e) for m in methods for e in (0, 1, 2)}
    blobs = records[metadata.saliency_tag("gradcam", 2)]["steps"][2]
    assert records[metadata.saliency_tag("gradcam", 2)]["content"]["num_images"] == 6 and len(blobs) == 2 + 6
    info = metadata.decode_json(blobs[metadata.SALIENCY_INFO])
    assert info.pop("scale") > 0 and info == {"targets": yp.tolist(), "labels": yp.tolist(), "layer": "conv_b"}
    assert metadata.decode_array(blobs[metadata.SALIENCY_KEYS]).shape == (6, 7, 7)
    assert tf.io.decode_png(blobs[metadata.SALIENCY_IMAGES]).shape == (28, 28, 3)


def test_arguments_reach_the_maps(tmp_path, rng):
    keras.utils.set_random_seed(2)
    model = small_cnn()
    x = rng.uniform(size=(4, 28, 28, 1)).astype("float32")
    logger = nnviz_tb.SaliencyLogger(str(tmp_path), x, methods=("integrated_gradients", "gradcam", "smoothgrad"),
                                     baseline="mean", layer="conv_a", ig_steps=64, noise_level=0.0)
    logger.set_model(model)
    assert logger.layer_ == "conv_a"
    predicted = model(x).numpy().argmax(axis=1)
    np.testing.assert_array_equal(logger._targets(tf.constant(x)), predicted)
    target = tf.constant(predicted, tf.int32)
    # Integrated Gradients from the images' mean: they sum to the score difference from it.
    ig = logger._functions["integrated_gradients"](tf.constant(x), target).numpy()
    base = np.broadcast_to(x.mean(axis=0), x.shape)
    scores = centered_logit(model(x).numpy(), predicted) - centered_logit(model(base).numpy(), predicted)
    np.testing.assert_allclose(ig.reshape(4, -1).sum(axis=1), scores, rtol=0.02, atol=1e-5)
    # Without noise SmoothGrad is the gradient; Grad-CAM of conv_a has the image's size.
    plain = saliency.attribution_fn(model, "gradient")(tf.constant(x), target).numpy()
    np.testing.assert_allclose(logger._functions["smoothgrad"](tf.constant(x), target).numpy(), plain, atol=1e-6)
    assert logger._functions["gradcam"](tf.constant(x), target).shape == (4, 28, 28)


def test_runtime_trouble_is_one_warning(tmp_path, caplog, monkeypatch):
    x = np.random.default_rng(0).uniform(size=(3, 64)).astype("float32")
    model = linear_model(np.ones(64))
    model.compile("sgd", "mse")
    logger = nnviz_tb.SaliencyLogger(str(tmp_path), x, methods=("gradient",))
    monkeypatch.setattr(saliency, "attribution_fn", lambda *a, **k: lambda *b: 1 / 0)  # Fails at run time.
    with caplog.at_level(logging.WARNING):
        model.fit(x, np.zeros(3), epochs=3, verbose=0, callbacks=[logger])
    assert len([r for r in caplog.records if "SaliencyLogger" in r.getMessage()]) == 1
    assert read_images(str(tmp_path)) == {}
