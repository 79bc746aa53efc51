"""FeatureMapLogger: the grids in the Images tab's event data, read back with TensorBoard's loader."""

import io
import logging

import keras
import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator

import nnviz_tb
from nnviz_tb import feature_maps

# A 3 x 3 kernel, 1 input channel, 2 filters: the centre pixel, and its negative.
KERNEL = np.zeros((3, 3, 1, 2), np.float32)
KERNEL[1, 1, 0] = [1.0, -1.0]


def read_images(run_dir):
    """`{tag: {step: uint8 [H, W]}}` of the run's `tf.summary.image` data."""
    acc = event_accumulator.EventAccumulator(run_dir, size_guidance={event_accumulator.TENSORS: 0})
    acc.Reload()
    result = {}
    for tag in acc.Tags()["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != "images":
            continue
        result[tag] = {e.step: np.asarray(Image.open(io.BytesIO(e.tensor_proto.string_val[2])))  # [w, h, png]
                       for e in acc.Tensors(tag)}
    return result


def conv_model():
    """Input 6 x 6 x 1 -> Conv2D "conv" (KERNEL, no bias) -> Dense(2), trained with a learning rate of 0."""
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        keras.layers.Conv2D(2, 3, use_bias=False, name="conv"),
        keras.layers.Flatten(),
        keras.layers.Dense(2),
    ])
    model.get_layer("conv").set_weights([KERNEL])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    return model


def fit(model, callback, epochs=2):
    x = np.random.default_rng(0).random((8,) + model.input_shape[1:], dtype=np.float32)
    model.fit(x, np.zeros((8,) + model.output_shape[1:]), epochs=epochs, verbose=0, callbacks=[callback])


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    """`(images by tag, the probe images, conv outputs)` after 2 epochs."""
    log_dir = str(tmp_path_factory.mktemp("fm") / "run")
    images = np.random.default_rng(1).random((3, 6, 6, 1), dtype=np.float32)
    model = conv_model()
    fit(model, nnviz_tb.FeatureMapLogger(log_dir, images))
    outputs = keras.Model(model.inputs, model.get_layer("conv").output).predict(images, verbose=0)
    return read_images(log_dir), images, outputs


def test_steps_and_tags(conv_run):
    grids, _, _ = conv_run
    assert {tag: sorted(steps) for tag, steps in grids.items()} == {
        "feature_maps/conv": [0, 1, 2], "filters/conv": [0, 1, 2]}


def test_grid_pixels_are_the_scaled_layer_outputs(conv_run):
    grids, images, outputs = conv_run
    np.testing.assert_allclose(outputs[..., 0], images[:, 1:5, 1:5, 0], atol=1e-6)  # The kernel as set.
    low, high = outputs.min(), outputs.max()
    grid = grids["feature_maps/conv"][2]
    assert grid.shape == (3 * 5 - 1, 2 * 5 - 1)  # 3 images x 2 channels of 4 x 4, 1-pixel gaps.
    for r in range(3):
        for c in range(2):
            expected = np.rint((outputs[r, :, :, c] - low) / (high - low) * 255)
            np.testing.assert_array_equal(grid[r * 5: r * 5 + 4, c * 5: c * 5 + 4], expected)
    assert (grid[4, :] == 255).all() and (grid[:, 4] == 255).all()
    np.testing.assert_array_equal(grids["feature_maps/conv"][0], grid)  # Learning rate 0: the same maps.


def test_filter_grid_is_the_kernel(conv_run):
    grids, _, _ = conv_run
    centre_one = np.full((3, 3), 128)  # 0 between -1 (black) and 1 (white).
    centre_one[1, 1] = 255
    centre_minus_one = centre_one.copy()
    centre_minus_one[1, 1] = 0
    expected = np.full((3, 7), 255)
    expected[:, :3], expected[:, 4:] = centre_one, centre_minus_one
    for step in (0, 1, 2):
        np.testing.assert_array_equal(grids["filters/conv"][step], expected)


def test_every_n_epochs_max_channels_and_no_filters(tmp_path):
    log_dir = str(tmp_path / "run")
    fit(conv_model(), nnviz_tb.FeatureMapLogger(log_dir, np.ones((2, 6, 6, 1)), max_channels=1, filters=False,
                                                every_n_epochs=2), epochs=3)
    grids = read_images(log_dir)
    assert list(grids) == ["feature_maps/conv"]
    assert sorted(grids["feature_maps/conv"]) == [0, 2, 3]
    assert grids["feature_maps/conv"][3].shape == (2 * 5 - 1, 4)


def test_default_layers_nested_at_most_8_and_conv1d(tmp_path):
    inner = keras.Sequential([keras.Input((16, 2)), keras.layers.Conv1D(3, 3, padding="same", name="c1")],
                             name="inner")
    layers = [inner] + [keras.layers.Conv1D(3, 3, padding="same", name="d%d" % i) for i in range(9)]
    model = keras.Sequential([keras.Input((16, 2)), *layers, keras.layers.GlobalAveragePooling1D()])
    model.compile("sgd", "mse")
    log_dir = str(tmp_path / "run")
    fit(model, nnviz_tb.FeatureMapLogger(log_dir, np.ones((2, 16, 2)), max_channels=2), epochs=1)
    grids = read_images(log_dir)
    assert sorted(grids) == sorted(["feature_maps/inner/c1"] + ["feature_maps/d%d" % i for i in range(7)]
                                   + ["filters/inner/c1"])
    # 2 images x 2 channels of 16-long strips 8 pixels high; the filters: 2 inputs x 2 filters of 3.
    assert grids["feature_maps/d0"][0].shape == (2 * 9 - 1, 2 * 17 - 1)
    assert grids["filters/inner/c1"][0].shape == (2 * 9 - 1, 2 * 4 - 1)


@pytest.mark.parametrize("kwargs, message", [
    (dict(images=None), "The 'images' parameter must be an array"),
    (dict(images=np.ones(3)), "The 'images' parameter must be an array"),
    (dict(max_channels=0), "The 'max_channels' parameter must be an integer >= 1. Got 0 instead."),
    (dict(filters="yes"), "The 'filters' parameter must be True or False. Got 'yes' instead."),
    (dict(layers="conv"), "The 'layers' parameter must be a list of layer names. Got 'conv' instead."),
    (dict(every_n_epochs=0), "The 'every_n_epochs' parameter must be an integer >= 1"),
])
def test_bad_arguments_raise(tmp_path, kwargs, message):
    kwargs = {"images": np.ones((2, 6, 6, 1)), **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        nnviz_tb.FeatureMapLogger(str(tmp_path), **kwargs)


def test_no_conv_layers_or_unknown_names_raise_before_fit(tmp_path):
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    dense.compile("sgd", "mse")
    with pytest.raises(ValueError, match="needs a model with Conv1D or Conv2D layers"):
        fit(dense, nnviz_tb.FeatureMapLogger(str(tmp_path / "a"), np.ones((2, 4))))
    with pytest.raises(ValueError, match=r"must name Conv1D or Conv2D layers of the model \(conv\)"):
        fit(conv_model(), nnviz_tb.FeatureMapLogger(str(tmp_path / "b"), np.ones((2, 6, 6, 1)), layers=["dense"]))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_trouble_at_run_time_warns_once(tmp_path, caplog):
    logger = nnviz_tb.FeatureMapLogger(str(tmp_path / "run"), np.ones((2, 6, 6, 1)))
    logger.feature_maps_ = lambda: 1 / 0
    with caplog.at_level(logging.WARNING):
        fit(conv_model(), logger, epochs=3)
    warnings = [r for r in caplog.records if "FeatureMapLogger could not record" in r.getMessage()]
    assert len(warnings) == 1 and "step 0" in warnings[0].getMessage()


def test_channels_first_grid_equals_channels_last():
    maps = np.random.default_rng(2).random((2, 4, 5, 3))
    np.testing.assert_array_equal(feature_maps.feature_map_grid(np.moveaxis(maps, -1, 1), 2, channels_first=True),
                                  feature_maps.feature_map_grid(maps, 2))
    assert feature_maps.feature_map_grid(maps, 2).shape == (2 * 5 - 1, 2 * 6 - 1, 1)
