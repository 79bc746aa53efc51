"""One step is one moment of training in every tab: nnviz_tb.TensorBoard and the nnviz loggers agree."""

import os
import warnings

import numpy as np
import pytest
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.util import tensor_util

from conftest import digits
from event_reading import read_run
from nnviz_tb import metadata


def tensors(run_dir):
    """`{tag: {step: value}}` of every tensor summary (scalars, histograms) in `run_dir`."""
    acc = plugin_event_accumulator.EventAccumulator(run_dir, size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: {e.step: tensor_util.make_ndarray(e.tensor_proto) for e in acc.Tensors(tag)}
            for tag in acc.Tags()["tensors"]}


def make_model():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ], name="mlp")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def callbacks(log_dir, probe, **tensorboard_args):
    import nnviz_tb

    return [nnviz_tb.ActivationLogger(log_dir, probe=probe), nnviz_tb.GradientStatsLogger(log_dir),
            nnviz_tb.TensorBoard(log_dir, **tensorboard_args)]


def prediction_accuracy(run, probe_labels):
    """`{step: share of the probe whose recorded prediction is its label}`."""
    result = {}
    for tag, summary in run.items():
        if tag.startswith("nnviz/predictions/"):
            (step, blobs), = summary["steps"].items()
            result[step] = float(np.mean(metadata.decode_array(blobs[0]) == probe_labels))
    return result


def test_epoch_summaries_and_nnviz_share_steps(tmp_path):
    x, y = digits()
    probe = (x[:300], y[:300])
    log_dir = str(tmp_path / "run")
    model = make_model()
    model.fit(x[300:], y[300:], epochs=3, batch_size=64, validation_data=probe, verbose=0,
              callbacks=callbacks(log_dir, probe, histogram_freq=1))
    train, validation = tensors(os.path.join(log_dir, "train")), tensors(os.path.join(log_dir, "validation"))
    nnviz = read_run(log_dir)
    assert sorted(train["epoch_loss"]) == sorted(validation["epoch_accuracy"]) == [1, 2, 3]
    assert sorted(tensors(log_dir)[metadata.gradient_scalar_tag("hidden", "zero_fraction")]) == [1, 2, 3]
    assert sorted(train["mlp/hidden/kernel/histogram"]) == [0, 1, 2, 3]  # Step 0: the initial weights.
    # The same moment: Keras' validation accuracy at step e is that of nnviz's predictions at step e.
    accuracy = prediction_accuracy(nnviz, probe[1])
    assert sorted(accuracy) == [0, 1, 2, 3]
    for step in (1, 2, 3):
        assert accuracy[step] == pytest.approx(float(validation["epoch_accuracy"][step]), abs=1e-6)
    assert len(set(accuracy.values())) > 2  # The model learns: the steps are told apart.


def test_resumed_training_continues_the_steps(tmp_path):
    x, y = digits()
    probe = (x[:200], y[:200])
    log_dir = str(tmp_path / "run")
    model = make_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=callbacks(log_dir, probe))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=4, initial_epoch=2, verbose=0, callbacks=callbacks(log_dir, probe))
    assert not [w for w in caught if "nnviz_tb" in str(w.message)]  # No warning about repeated steps.
    assert sorted(tensors(os.path.join(log_dir, "train"))["epoch_loss"]) == [1, 2, 3, 4]
    assert sorted(prediction_accuracy(read_run(log_dir), probe[1])) == [0, 1, 2, 3, 4]


def test_a_second_fit_from_epoch_0_warns(tmp_path):
    x, y = digits()
    probe = (x[:200], y[:200])
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=callbacks(str(tmp_path / "a"), probe))
    expected = r"starts at epoch 0, but the model has been trained already \(57 optimizer steps\): its step 0"
    with pytest.warns(UserWarning, match=expected + r" is not the untrained network.*initial_epoch=") as caught:
        model.fit(x, y, epochs=1, verbose=0, callbacks=callbacks(str(tmp_path / "b"), probe))
    assert len([w for w in caught if "initial_epoch" in str(w.message)]) == 1  # Once, not per callback.



def test_batch_summaries_only_where_a_writer_takes_them(tmp_path):
    import nnviz_tb
    import tensorflow as tf

    x, y = digits()
    model = make_model()
    for name, args in (("epoch", {}), ("batch", {"update_freq": "batch"})):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[nnviz_tb.TensorBoard(str(tmp_path / name), **args)])
    assert "batch_loss" in tensors(str(tmp_path / "batch" / "train"))
    epoch_tags = tensors(str(tmp_path / "epoch" / "train"))
    assert "epoch_loss" in epoch_tags and "batch_loss" not in epoch_tags
    # A writer of the user's own still gets Keras' batch scalars, as with keras.callbacks.TensorBoard.
    with tf.summary.create_file_writer(str(tmp_path / "own")).as_default(step=0):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[nnviz_tb.TensorBoard(str(tmp_path / "mine"))])
    assert "batch_loss" in tensors(str(tmp_path / "own"))
