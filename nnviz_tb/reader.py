"""Reads a run's nnviz summaries from its event files, without TensorBoard's server.

For analyses outside the tab (scripts, notebooks). Uses TensorBoard's own
event loader, keeping every step; imports no TensorFlow.
"""

import dataclasses

from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.util import tensor_util

from nnviz_tb import metadata


@dataclasses.dataclass
class RecordedRun:
    """What an `ActivationLogger` recorded in one run directory.

    Attributes:
      labels: int32 `[N]` probe labels.
      class_names: One name per class.
      layers: Layer descriptions written by the callback (name, kind, dim, reduction).
      activations: `{layer: {epoch: [N, D] array}}`.
      predictions: `{epoch: int32 [N]}`.
    """

    labels: object
    class_names: list
    layers: list
    activations: dict
    predictions: dict


def _summaries(run_dir):
    """Yields `(content dict, blobs)` of the latest step of each nnviz tag of `run_dir`."""
    accumulator = plugin_event_accumulator.EventAccumulator(
        run_dir, size_guidance={plugin_event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    for tag in accumulator.Tags()["tensors"]:
        summary_metadata = accumulator.SummaryMetadata(tag)
        if summary_metadata.plugin_data.plugin_name != metadata.PLUGIN_NAME:
            continue
        content = metadata.parse_plugin_content(summary_metadata.plugin_data.content)
        events = accumulator.Tensors(tag)
        if content is not None and events:
            yield content, list(tensor_util.make_ndarray(events[-1].tensor_proto))


def read_gradient_stats(run_dir):
    """`{epoch: record}` of the statistics a `GradientStatsLogger` wrote to `run_dir`.

    Each record is the JSON dict of `nnviz_tb.gradient_stats.epoch_record`
    (e.g. `record["layer_stats"]["zero_fraction"][i]` of layer
    `record["layers"][i]["name"]`).
    """
    return {
        content["epoch"]: metadata.decode_json(blobs[metadata.GRADIENT_INFO])
        for content, blobs in _summaries(run_dir)
        if content["kind"] == metadata.KIND_GRADIENT_STATS
    }


def read_run(run_dir):
    """Reads every nnviz summary of `run_dir` (local or `tf.io.gfile` URL).

    Raises:
      ValueError: if the directory holds no nnviz probe summary.
    """
    probe, activations, predictions = None, {}, {}
    for content, blobs in _summaries(run_dir):
        if content["kind"] == metadata.KIND_PROBE:
            probe = blobs
        elif content["kind"] == metadata.KIND_ACTIVATIONS:
            layer = activations.setdefault(content["layer"], {})
            layer[content["epoch"]] = metadata.decode_array(blobs[0])
        elif content["kind"] == metadata.KIND_PREDICTIONS:
            predictions[content["epoch"]] = metadata.decode_array(blobs[0])
    if probe is None:
        raise ValueError("No nnviz probe summary in %r." % (run_dir,))
    info = metadata.decode_json(probe[metadata.PROBE_INFO])
    return RecordedRun(
        labels=metadata.decode_array(probe[metadata.PROBE_LABELS]),
        class_names=info.get("class_names", []),
        layers=info.get("layers", []),
        activations=activations,
        predictions=predictions,
    )
