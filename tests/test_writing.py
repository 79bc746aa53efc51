"""Where and how the logs are written: remote file systems, distribution, crashes."""

import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import nnviz_tb
from nnviz_tb import metadata
from nnviz_tb.callbacks import distribution
from nnviz_tb.summary import NnvizWriter
from conftest import digits
from event_reading import read_run


def test_writes_through_tf_io_gfile():
    writer = NnvizWriter("ram://nnviz_test/run")
    writer.write_probe(0, {"num_points": 3}, np.array([0, 1, 2]), None)
    writer.close()
    (name,) = tf.io.gfile.listdir("ram://nnviz_test/run")
    records = list(tf.data.TFRecordDataset("ram://nnviz_test/run/" + name))
    assert len(records) == 2  # The file version header and the probe summary.


def test_scalars_reach_the_scalars_tab(tmp_path):
    writer = NnvizWriter(str(tmp_path))
    writer.write_scalars(3, {"gradients/dense/zero_fraction": 0.25})
    writer.close()
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    (event,) = acc.Tensors("gradients/dense/zero_fraction")
    assert event.step == 3
    assert tf.make_ndarray(event.tensor_proto) == 0.25


def test_a_write_may_queue_more_writes(tmp_path):
    """Scalars queued from inside a queued write, with the queue full, are written."""
    writer = NnvizWriter(str(tmp_path), max_queue=1)
    writer.submit(lambda: [writer.write_scalars(step, {"nested": step}) for step in range(3)])
    writer.write_scalars(3, {"nested": 3})  # Fills the queue while the first write runs.
    writer.close()
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [e.step for e in acc.Tensors("nested")] == [0, 1, 2, 3]



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities are set on Linux only")
def test_the_writer_thread_yields_the_cpu_to_training(tmp_path):
    import os
    import threading

    writer = NnvizWriter(str(tmp_path))
    seen = []
    writer.submit(lambda: seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    writer.close()
    assert seen == [min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.getpriority(os.PRIO_PROCESS, 0)

def test_no_event_file_without_a_write(tmp_path):
    NnvizWriter(str(tmp_path / "run")).close()
    assert not (tmp_path / "run").exists()


def test_write_errors_only_warn(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    writer = NnvizWriter(str(blocker / "run"))
    writer.write_probe(0, {}, np.zeros(2), None)
    writer.close()
    assert "could not write" in caplog.text


def _strategy(task_type, task_id, cluster):
    resolver = types.SimpleNamespace(
        task_type=task_type, task_id=task_id,
        cluster_spec=lambda: types.SimpleNamespace(as_dict=lambda: cluster),
    )
    return types.SimpleNamespace(distribute_strategy=types.SimpleNamespace(cluster_resolver=resolver))


def test_only_the_chief_writes():
    workers = {"worker": ["a:1", "b:1"]}
    assert distribution.is_chief(_strategy("worker", 0, workers))
    assert not distribution.is_chief(_strategy("worker", 1, workers))
    with_chief = {"chief": ["c:1"], "worker": ["a:1"]}
    assert distribution.is_chief(_strategy("chief", 0, with_chief))
    assert not distribution.is_chief(_strategy("worker", 0, with_chief))
    assert distribution.is_chief(_strategy(None, None, {}))
    assert distribution.num_workers(_strategy("chief", 0, with_chief)) == 2
    assert distribution.num_workers(_strategy(None, None, {})) == 1


def test_mirrored_strategy(tmp_path):
    import keras

    x, y = digits()
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, name="h"), keras.layers.Dense(10, name="o")])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    logger = nnviz_tb.ActivationLogger(str(tmp_path), probe=(x[:40], y[:40]))
    model.fit(x[:128], y[:128], epochs=1, verbose=0, callbacks=[logger])
    assert metadata.activations_tag("h", 1) in read_run(str(tmp_path))


def test_a_crash_keeps_the_epochs_already_recorded(tmp_path):
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
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, name="h"), keras.layers.Dense(10)])
        model.compile("sgd", "mse")
        logger = nnviz_tb.ActivationLogger(%r, probe=(x[:30], y[:30]))
        model.fit(x[:64], keras.utils.to_categorical(y[:64], 10), epochs=5, verbose=0,
                  callbacks=[logger, Crash()])
        """
        % (str(__import__("pathlib").Path(__file__).parent), str(tmp_path))
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == 3, result.stderr.decode()[-2000:]
    epochs = {
        e["content"]["epoch"]
        for e in read_run(str(tmp_path)).values()
        if e["content"]["kind"] == metadata.KIND_ACTIVATIONS
    }
    # Epoch 2 was being recorded when the process died; 0 and 1 are safe.
    assert {0, 1} <= epochs


def test_tensorflow_float16_cast_matches_numpy(rng):
    from nnviz_tb import summary

    bits = rng.integers(0, 2**32, size=200_000, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    values = values[np.isfinite(values) & (np.abs(values) < 60000)]
    special = np.array([0.0, -0.0, 1e-8, 6e-5, 65504.0, 65519.0, np.nan, np.inf], np.float32)
    for array in (values, special, values[:0]):
        assert metadata.encode_activations(array, summary._to_float16) == metadata.encode_activations(array)
