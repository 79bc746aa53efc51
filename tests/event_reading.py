"""Reads nnviz summaries back with TensorBoard's own loaders (not with our plugin)."""

from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.compat.proto import summary_pb2
from tensorboard.util import tensor_util

from nnviz_tb import metadata, metadata_checks, precompute


def read_run(run_dir):
    """`{tag: {"content": dict, "data_class": int, "steps": {step: [bytes, ...]}}}`.

    Uses TensorBoard's Python `EventAccumulator` with its default sampling.
    """
    acc = plugin_event_accumulator.EventAccumulator(run_dir)
    acc.Reload()
    result = {}
    for tag in acc.Tags()["tensors"]:
        meta = acc.SummaryMetadata(tag)
        if meta.plugin_data.plugin_name != metadata.PLUGIN_NAME:
            continue
        steps = {
            event.step: list(tensor_util.make_ndarray(event.tensor_proto))
            for event in acc.Tensors(tag)
        }
        result[tag] = {
            "content": metadata_checks.parse_plugin_content(meta.plugin_data.content),
            "data_class": meta.data_class,
            "steps": steps,
        }
    return result


def python_data_provider(logdir):
    """TensorBoard's multiplexer-backed data provider, default size guidance (as `nnviz-tb precompute` reads)."""
    return precompute.data_provider(logdir)


BLOB_SEQUENCE = summary_pb2.DATA_CLASS_BLOB_SEQUENCE
