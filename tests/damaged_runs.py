"""Writes nnviz runs record by record without TensorFlow, damaged on purpose where asked.

A run is a list of `Summary(tag, step, content, blobs)`; `good_run` gives the
records a healthy `ActivationLogger` run would hold, for tests to break one.
"""

import dataclasses
import os
import time

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, types_pb2
from tensorboard.summary.writer import event_file_writer
from tensorboard.util import tensor_util

from nnviz_tb import metadata


@dataclasses.dataclass
class Summary:
    """One blob-sequence summary: `content` is the raw plugin content (bytes)."""

    tag: str
    step: int
    content: bytes
    blobs: list


def content(kind, **fields):
    """The plugin content the writers store for `kind` and `fields`."""
    return metadata.create_summary_metadata(kind, **fields).plugin_data.content


def good_run(num_points=40, layers=("a", "b"), epochs=(0, 1), dim=5, classes=4, thumbnails=True, seed=1):
    """`(summaries, labels)` of a healthy run: probe, activations and predictions."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(num_points) % classes).astype(np.int32)
    info = {"num_points": num_points, "class_names": ["c%d" % c for c in range(classes)],
            "layers": [{"name": n, "dim": dim, "reduction": "none"} for n in layers]}
    thumbs = rng.integers(0, 255, (num_points, 4, 4), dtype=np.uint8) if thumbnails else None
    summaries = [probe_summary(info, labels, thumbs)]
    for epoch in epochs:
        for layer in layers:
            values = rng.normal(size=(num_points, dim)).astype(np.float32) + labels[:, None]
            summaries.append(activations_summary(layer, epoch, values))
        summaries.append(Summary(metadata.predictions_tag(epoch), epoch, content(metadata.KIND_PREDICTIONS, epoch=epoch),
                                 [metadata.encode_array(labels)]))
    return summaries, labels


def probe_summary(info, labels, thumbnails=None, step=0):
    blobs = [metadata.encode_json(info), metadata.encode_array(np.asarray(labels)),
             b"" if thumbnails is None else metadata.encode_array(thumbnails)]
    return Summary(metadata.PROBE_TAG, step, content(metadata.KIND_PROBE), blobs)


def activations_summary(layer, epoch, values, **fields):
    """An activations summary of raw `values` (no float16 conversion: any dtype or shape)."""
    blob = values if isinstance(values, bytes) else metadata.encode_array(values)
    return Summary(metadata.activations_tag(layer, epoch), epoch,
                   content(metadata.KIND_ACTIVATIONS, layer=layer, epoch=epoch, **fields), [blob])


def write_run(run_dir, summaries):
    """Writes `summaries` into one event file of `run_dir` (created)."""
    os.makedirs(run_dir, exist_ok=True)
    writer = event_file_writer.EventFileWriter(str(run_dir))
    for s in summaries:
        meta = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=metadata.PLUGIN_NAME, content=s.content),
            data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
        )
        tensor = tensor_util.make_tensor_proto(np.array(s.blobs, dtype=object), dtype=types_pb2.DT_STRING,
                                               shape=[len(s.blobs)])
        value = summary_pb2.Summary.Value(tag=s.tag, metadata=meta, tensor=tensor)
        writer.add_event(event_pb2.Event(wall_time=time.time(), step=s.step, summary=summary_pb2.Summary(value=[value])))
    writer.close()


def replaced(summaries, tag, **changes):
    """`summaries` with the one of `tag` changed (`content=`, `blobs=`)."""
    return [dataclasses.replace(s, **changes) if s.tag == tag else s for s in summaries]
