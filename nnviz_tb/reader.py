"""Reads a run's nnviz summaries from its event files, without TensorBoard's server.

For analyses outside the tab (scripts, notebooks). Uses TensorBoard's own
event loader, keeping every step; imports no TensorFlow.
"""

import dataclasses
import logging

from tensorboard.backend.event_processing import directory_watcher, plugin_event_accumulator
from tensorboard.util import tensor_util

from nnviz_tb import metadata, metadata_checks

logger = logging.getLogger(__name__)


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
    """Yields `(content dict, blobs)` of the latest step of each nnviz tag of `run_dir`.

    Summaries whose metadata breaks the format are skipped with a warning.
    """
    accumulator = plugin_event_accumulator.EventAccumulator(
        run_dir, size_guidance={plugin_event_accumulator.TENSORS: 0}
    )
    try:
        accumulator.Reload()
    except directory_watcher.DirectoryDeletedError:
        raise ValueError("No run directory %r." % (run_dir,)) from None
    for tag in accumulator.Tags()["tensors"]:
        summary_metadata = accumulator.SummaryMetadata(tag)
        if summary_metadata.plugin_data.plugin_name != metadata.PLUGIN_NAME:
            continue
        content, problem = metadata_checks.read_plugin_content(summary_metadata.plugin_data.content)
        if problem:
            logger.warning("nnviz_tb: skipping the summary %r of %s: %s", tag, run_dir, problem)
            continue
        events = accumulator.Tensors(tag)
        if events:
            yield dict(content, tag=tag), list(tensor_util.make_ndarray(events[-1].tensor_proto))


def _array(content, blob, run_dir):
    """The array of one blob; a damaged one raises `ValueError` naming the summary."""
    try:
        return metadata.decode_array(blob)
    except metadata.FormatError as e:
        raise ValueError("The summary %r of %s cannot be read: %s" % (content["tag"], run_dir, e)) from None


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


@dataclasses.dataclass
class RecordedCorrelations:
    """What a `CorrelationLogger` recorded in one run directory.

    Attributes:
      layers: `{epoch: [layer names]}`, the rows and columns of `scores`.
      scores: `{epoch: {measure: float32 [L, L]}}`, layer-pair scores (NaN where undefined).
      matrices: `{layer: {epoch: {"features", "feature_indices", "samples",
        "sample_indices", "sample_labels"}}}`: the feature x feature and sample x
        sample Pearson r and which features and probe points they keep.
      augmentation_variance: `{epoch: {layer: float32 [2, D]}}`, each feature's
        variance over the augmentations (row 0) and over the probe set (row 1).
    """

    layers: dict
    scores: dict
    matrices: dict
    augmentation_variance: dict


_CORRELATION_KINDS = (
    metadata.KIND_CORRELATIONS,
    metadata.KIND_FEATURE_CORRELATIONS,
    metadata.KIND_AUGMENTATION_VARIANCE,
)
_MATRIX_BLOBS = {
    "features": metadata.FEATURE_MATRIX,
    "feature_indices": metadata.FEATURE_INDICES,
    "samples": metadata.SAMPLE_MATRIX,
    "sample_indices": metadata.SAMPLE_INDICES,
    "sample_labels": metadata.SAMPLE_LABELS,
}


def read_correlations(run_dir):
    """Reads what a `CorrelationLogger` wrote to `run_dir` (local or `tf.io.gfile` URL).

    Raises:
      ValueError: if the directory holds no nnviz correlation summary.
    """
    found = RecordedCorrelations({}, {}, {}, {})
    for content, blobs in _summaries(run_dir):
        if content["kind"] not in _CORRELATION_KINDS:
            continue
        arrays = [_array(content, blob, run_dir) for blob in blobs]
        if content["kind"] == metadata.KIND_CORRELATIONS:
            found.layers[content["epoch"]] = content["layers"]
            found.scores[content["epoch"]] = dict(zip(content["measures"], arrays))
        elif content["kind"] == metadata.KIND_FEATURE_CORRELATIONS:
            layer = found.matrices.setdefault(content["layer"], {})
            layer[content["epoch"]] = {name: arrays[i] for name, i in _MATRIX_BLOBS.items()}
        else:
            found.augmentation_variance[content["epoch"]] = dict(zip(content["layers"], arrays))
    if not (found.scores or found.matrices or found.augmentation_variance):
        raise ValueError("No nnviz correlation summary in %r." % (run_dir,))
    return found


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
            layer[content["epoch"]] = _array(content, blobs[0], run_dir)
        elif content["kind"] == metadata.KIND_PREDICTIONS:
            predictions[content["epoch"]] = _array(content, blobs[0], run_dir)
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
