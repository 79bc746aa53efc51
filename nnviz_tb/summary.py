"""Writes nnviz summaries (see `nnviz_tb.metadata`) to TensorBoard event files.

Encoding and writing run on a background thread so that the training loop only
pays for computing the activations; on Linux that thread runs at a lower
priority (nice + 10), so it takes the CPU that training leaves idle. The queue
is bounded, so memory stays bounded even if the disk (or a remote `tf.io.gfile`
location) is slow. Each
record is flushed as soon as it is written: if training crashes, everything
already handed to the writer is on disk.
"""

import atexit
import functools
import logging
import os
import queue
import sys
import threading

import numpy as np
import tensorflow as tf
from tensorboard.plugins.image import metadata as image_metadata

from nnviz_tb import metadata, png

logger = logging.getLogger(__name__)

_STOP = object()


class NnvizWriter:
    """Asynchronous writer of nnviz summaries for one run directory.

    The event file is created lazily, on the first write, so that a run that
    never writes leaves no empty event file behind.

    Args:
      log_dir: Directory of the run (local or any `tf.io.gfile` URL).
      max_queue: Number of pending records before `write_*` calls block.
    """

    def __init__(self, log_dir, max_queue=2):
        self.log_dir = str(log_dir)
        self._queue = queue.Queue(maxsize=max_queue)
        self._writer = None
        self._failed = False
        self._thread = threading.Thread(
            target=self._run, name="nnviz-writer", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)

    def submit(self, write):
        """Queues `write()`, later called on the writer thread with this run's
        `tf.summary` writer as the default, then flushed.

        Other loggers use it to write their own summaries (see `write_blobs`).
        Called from inside a queued write, it writes at once: that write holds
        the writer thread, so queueing could wait forever on a full queue.
        """
        if threading.current_thread() is self._thread:
            write()
        else:
            self._queue.put(write)

    def write_scalars(self, step, values):
        """Queues scalars `{tag: float}` for TensorBoard's Scalars tab."""
        self.submit(functools.partial(_write_scalars, step, dict(values)))

    def write_probe(self, step, info, labels, thumbnails):
        """Queues the probe description, labels `[N]` and thumbnails (or None)."""
        self.submit(functools.partial(self._write_probe, step, info, labels, thumbnails))

    def write_epoch(self, step, activations, predictions, reductions):
        """Queues one epoch.

        Args:
          step: The epoch (0 = before training).
          activations: `{layer: [N, D] array}`.
          predictions: Predicted class per probe point, `[N]`, or None.
          reductions: `{layer: str}`, how each layer's output was reduced.
        """
        self.submit(functools.partial(self._write_epoch, step, activations, predictions, reductions))

    def write_confusion(self, step, counts, class_names):
        """Queues a confusion matrix, int32 `[C, C]` (row = true class, column = predicted)."""
        self.submit(functools.partial(_write_confusion, step, counts, list(class_names)))

    def flush(self):
        """Blocks until every queued record is written and flushed."""
        if self._thread.is_alive():
            self._queue.join()

    def close(self):
        """Writes what is queued, then closes the event file. Idempotent."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        atexit.unregister(self.close)

    def _run(self):
        _yield_to_training()
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    if self._writer is not None:
                        self._writer.close()
                    return
                self._write(item)
            except Exception as e:  # Never crash training because of a write.
                if not self._failed:
                    logger.warning("nnviz_tb could not write to %s: %s", self.log_dir, e)
                self._failed = True
            finally:
                self._queue.task_done()

    def _write(self, write):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            write()
        self._writer.flush()

    def _write_probe(self, step, info, labels, thumbnails):
        blobs = [
            metadata.encode_json(info),
            metadata.encode_array(np.asarray(labels, dtype=np.int32)),
            b"" if thumbnails is None else metadata.encode_array(thumbnails),
        ]
        write_blobs(
            metadata.PROBE_TAG,
            blobs,
            step,
            metadata.create_summary_metadata(metadata.KIND_PROBE),
        )

    def _write_epoch(self, step, activations, predictions, reductions):
        for layer, values in activations.items():
            if not np.isfinite(values).all():
                logger.warning(
                    "nnviz_tb: layer %r has NaN or infinite activations at epoch %d; "
                    "they are recorded as they are.", layer, step
                )
            write_blobs(
                metadata.activations_tag(layer, step),
                [metadata.encode_activations(values, _to_float16)],
                step,
                metadata.create_summary_metadata(
                    metadata.KIND_ACTIVATIONS,
                    layer=layer,
                    epoch=step,
                    shape=list(values.shape),
                    reduction=reductions[layer],
                ),
            )
        if predictions is not None:
            write_blobs(
                metadata.predictions_tag(step),
                [metadata.encode_array(np.asarray(predictions, dtype=np.int32))],
                step,
                metadata.create_summary_metadata(metadata.KIND_PREDICTIONS, epoch=step),
            )


def _yield_to_training():
    """Lowers the calling thread's priority (Linux: nice + 10, this thread only), so that its
    writing takes the CPU that training leaves idle rather than a share of training's."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + 10)
        except OSError:
            pass


def _to_float16(values):
    """TensorFlow's float16 cast: the same values as NumPy's, several times faster."""
    return tf.cast(values, tf.float16).numpy()


def _write_scalars(step, values):
    for tag, value in values.items():
        tf.summary.scalar(tag, float(value), step=step)


def _write_confusion(step, counts, class_names):
    write_blobs(
        metadata.confusion_tag(step),
        [metadata.encode_array(np.asarray(counts, dtype=np.int32))],
        step,
        metadata.create_summary_metadata(
            metadata.KIND_CONFUSION, epoch=step, class_names=class_names, num_points=int(counts.sum())
        ),
    )


def write_blobs(tag, blobs, step, summary_metadata):
    """Writes one blob-sequence summary to the default writer (call it from `submit`)."""
    tf.summary.write(
        tag,
        tf.constant(blobs, dtype=tf.string),
        step=step,
        metadata=summary_metadata,
    )


def write_image(tag, image, step, description=None):
    """Writes one image (see `png.encode`) to the default writer as `tf.summary.image` does
    (TensorBoard's Images tab), faster (call it from `submit`)."""
    height, width = np.shape(image)[:2]
    tf.summary.write(
        tag,
        tf.constant([str(width), str(height), png.encode(image, fast=True)], dtype=tf.string),
        step=step,
        metadata=image_metadata.create_summary_metadata(display_name=None, description=description),
    )
