"""The probe set and the run directory: labels, thumbnails and log_dir checks."""

import warnings

import numpy as np
import pytest

import nnviz_tb
from nnviz_tb import probe as probe_lib

X = np.zeros((6, 4), "float32")


def test_float_labels_with_integral_values_are_class_ids(tmp_path):
    labels = np.array([0, 1, 1, 0, 1, 0], "float32")  # y.astype("float32") of binary labels.
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, labels))
    np.testing.assert_array_equal(logger.probe_labels, [0, 1, 1, 0, 1, 0])
    assert logger.probe_labels.dtype == np.int32 and logger.class_names == ["0", "1"]
    column = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, labels[:, None] * 2))
    np.testing.assert_array_equal(column.probe_labels, [0, 2, 2, 0, 2, 0])


@pytest.mark.parametrize("bad, shown", [(0.3, "0.3 at index 2"), (np.nan, "nan at index 2"), (np.inf, "inf at index 2")])
def test_non_integral_float_labels_are_refused_with_the_first_bad_value(tmp_path, bad, shown):
    labels = np.array([0, 1, bad, 0, 1, 0])
    with pytest.raises(ValueError, match=r"integral values.*\(e\.g\. %s\)" % shown):
        nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, labels))


def test_sparse_label_ids_are_refused_with_how_to_compact_them(tmp_path):
    labels = np.arange(6) % 3 * 100_000  # 0, 100000, 200000: 200,001 class names before.
    with pytest.raises(ValueError, match=r"below 1000 .*Got 200000 instead.*np\.unique"):
        nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, labels))
    ids, compact = np.unique(labels, return_inverse=True)
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, compact), class_names=[str(i) for i in ids])
    assert logger.class_names == ["0", "100000", "200000"]
    with pytest.raises(ValueError, match="at most 1000 classes. Got 1001 names"):
        nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, compact), class_names=range(1001))


def test_a_series_is_no_image_and_does_not_crash_the_constructor(tmp_path):
    series = np.cumsum(np.random.default_rng(0).normal(size=(5, 128, 1)), axis=1).astype("float32")
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(series, np.arange(5) % 2))
    assert logger.thumbnails is None
    # Wide sequences of features ([N, T, F] with T much larger than F) are no images either.
    assert probe_lib.make_thumbnails(np.ones((3, 200, 16), "float32")) is None
    # Unless told: image_shape overrides (sides too thin to shrink are kept).
    thumbs = probe_lib.make_thumbnails(series, image_shape=(128, 1))
    assert thumbs.shape == (5, 128, 1) and thumbs.dtype == np.uint8


def test_token_ids_are_no_images_even_of_a_square_length():
    ids = np.random.default_rng(0).integers(0, 2000, size=(6, 256)).astype("int32")  # 256 = 16 x 16
    assert probe_lib.make_thumbnails(ids) is None
    pixels = np.random.default_rng(0).integers(0, 256, size=(6, 256)).astype("int64")
    assert probe_lib.make_thumbnails(pixels).shape == (6, 16, 16)  # 8-bit images as int64 stay images.
    assert probe_lib.make_thumbnails(ids, image_shape=(16, 16)).shape == (6, 16, 16)  # Unless told.


@pytest.mark.parametrize(
    "x, shape",
    [
        (np.full((4, 28, 28), np.nan, "float32"), (4, 28, 28)),  # All NaN.
        (np.full((4, 28, 28, 3), 7.0, "float32"), (4, 28, 28, 3)),  # Constant.
        (np.ones((4, 2, 2)), None),  # Tiny: no image.
        (np.ones((4, 4)), None),  # 2 x 2 as a flat vector: no image.
        (np.ones((4, 64, 64, 5)), None),  # Five channels: no image.
        (np.ones(4), None),  # One value per point.
    ],
)
def test_odd_inputs_give_no_thumbnails_or_flat_ones_and_never_crash(x, shape):
    thumbs = probe_lib.make_thumbnails(x)
    assert (thumbs is None) if shape is None else thumbs.shape == shape
    if thumbs is not None:
        assert (thumbs == 0).all()  # NaN and constant inputs: black, not garbage.


def test_thumbnails_scale_over_finite_values_and_shrink_large_images():
    x = np.zeros((2, 64, 64), "float32")
    x[0] = 1.0
    x[1, 0, 0] = np.nan
    thumbs = probe_lib.make_thumbnails(x)
    assert thumbs.shape == (2, 32, 32)
    assert (thumbs[0] == 255).all() and (thumbs[1] == 0).all()


@pytest.mark.parametrize(
    "image_shape, message",
    [((7, 7), "as many values"), ((4,), r"\(H, W\) or \(H, W, C\)"), ((2, 2, 2), "C in 1, 3, 4")],
)
def test_bad_image_shapes_raise_value_error(tmp_path, image_shape, message):
    with pytest.raises(ValueError, match=message):
        nnviz_tb.ActivationLogger(str(tmp_path), probe=(X, np.arange(6) % 2), image_shape=image_shape)


@pytest.mark.parametrize("log_dir", ["", "   "])
@pytest.mark.parametrize("logger", ["ActivationLogger", "CorrelationLogger", "GradientStatsLogger"])
def test_an_empty_log_dir_is_refused(log_dir, logger):
    args = {} if logger == "GradientStatsLogger" else {"probe": (X, np.arange(6) % 2)}
    with pytest.raises(ValueError, match="'log_dir' parameter must be a directory path"):
        getattr(nnviz_tb, logger)(log_dir, **args)


@pytest.mark.parametrize("name", ['run "a"', "run\\b", "run\tc", "run\nd", "run\x01e"])
def test_run_names_the_default_loader_skips_are_warned_about_once(tmp_path, name):
    with pytest.warns(UserWarning, match="--load_fast=false") as record:
        nnviz_tb.ActivationLogger(str(tmp_path / name), probe=(X, np.arange(6) % 2))
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # A parent directory's name does not matter.
        nnviz_tb.ActivationLogger(str(tmp_path / name / "run1"), probe=(X, np.arange(6) % 2))
