"""Computes and writes the `CorrelationLogger`'s summaries of one epoch.

`CorrelationSummaries.write` runs on the `NnvizWriter` thread (through
`submit`), so that training only pays for the forward passes: the
correlations are computed while the next epoch trains, at the lowest CPU
priority, with NumPy's BLAS held to one thread meanwhile (several would
fight training for the cores).
"""

import dataclasses
import functools
import logging
import os
import sys
import threading

import numpy as np
import tensorflow as tf
import threadpoolctl

from nnviz_tb import metadata
from nnviz_tb.analysis import correlation
from nnviz_tb.summary import write_blobs

logger = logging.getLogger(__name__)

SCALAR_PREFIX = "correlation/mean_"  # + measure, in TensorBoard's Scalars tab.


@dataclasses.dataclass
class CorrelationSummaries:
    """What to compute for each recorded epoch (see `nnviz_tb.metadata` for the format).

    Attributes:
      layers: Recorded layers, in depth order, with their `dims` and `reductions`.
      columns: Per layer, the features (indices, evenly spaced) that stand for
        a layer wider than the cap (`sampled` keeps them), or None for all.
      measures: Cross-layer measures (`correlation.MEASURES`).
      matrix_layers: Layers whose feature and sample matrices are written.
      labels: Probe labels `[N]`, and `class_names`.
      max_features, max_samples: Size caps of those matrices; the samples
        are chosen once, by `correlation.class_balanced`.
      augmentation: Description of the augmentation (None if off), of the
        probe point `input_index`, `num_augmentations` times;
        `augmentation_note` why it is off or partial (None if neither).
      threshold: Variance ratio under which a feature counts as invariant.
    """

    layers: list
    dims: list
    columns: list
    reductions: list
    measures: tuple
    matrix_layers: list
    labels: np.ndarray
    class_names: list
    max_features: int
    max_samples: int
    augmentation: str
    augmentation_note: str
    input_index: int
    num_augmentations: int
    threshold: float

    def __post_init__(self):
        self.sample_indices = correlation.class_balanced(self.labels, self.max_samples)
        self.sampled_dims = [d if c is None else len(c) for d, c in zip(self.dims, self.columns)]
        self.plan = correlation.plan_cross_layer(self.sampled_dims, self.labels, self.max_features)

    def sampled(self, outputs):
        """`{layer: [n, D]}` outputs with only the kept `columns` of wide layers (copies)."""
        return {
            name: outputs[name] if columns is None else outputs[name][:, columns]
            for name, columns in zip(self.layers, self.columns)
        }

    def write(self, step, activations, augmented):
        """Writes one epoch: `activations` `{layer: [N, D]}`, `augmented` `{layer: [A, D]}` or None.

        Consumes `activations`: its arrays are taken out and centred in place.
        """
        _lower_thread_priority()
        _warn_non_finite(step, activations)
        with _thread_pools().limit(limits=1, user_api="blas"):
            layers = {name: correlation.LayerStatistics(activations.pop(name), overwrite=True) for name in self.layers}
            self._write_cross_layer(step, [layers[name] for name in self.layers])
            for name in self.matrix_layers:
                self._write_matrices(step, name, layers[name])
            if augmented is not None:
                self._write_augmentation_variance(step, layers, augmented)

    def _write_cross_layer(self, step, layers):
        scores = correlation.cross_layer_scores(layers, self.measures, self.plan)
        points = self.plan.points
        write_blobs(
            metadata.correlations_tag(step),
            [metadata.encode_array(scores[m].astype(np.float32)) for m in self.measures],
            step,
            metadata.create_summary_metadata(
                metadata.KIND_CORRELATIONS,
                epoch=step,
                layers=self.layers,
                dims=self.dims,
                reductions=self.reductions,
                sampled_dims=self.sampled_dims,
                live_features=[int(layer.live.sum()) for layer in layers],
                measures=list(self.measures),
                num_points=len(self.labels),
                score_points=len(self.labels) if points is None else len(points),
                pearson_features=self.plan.pearson_features,
                augmentation_note=self.augmentation_note,
            ),
        )
        for measure in self.measures:
            mean = correlation.mean_off_diagonal(scores[measure])
            if mean is not None:
                tf.summary.scalar(SCALAR_PREFIX + measure, mean, step=step)

    def _write_matrices(self, step, name, layer):
        features, _, feature_indices = correlation.feature_correlations(layer, self.max_features)
        columns = self.columns[self.layers.index(name)]
        if columns is not None:
            feature_indices = columns[feature_indices]
        samples, _ = correlation.sample_correlations(layer, self.sample_indices)
        blobs = [None] * 5
        blobs[metadata.FEATURE_MATRIX] = metadata.encode_array(features.astype(np.float16))
        blobs[metadata.FEATURE_INDICES] = metadata.encode_array(feature_indices.astype(np.int32))
        blobs[metadata.SAMPLE_MATRIX] = metadata.encode_array(samples.astype(np.float16))
        indices = self.sample_indices
        blobs[metadata.SAMPLE_INDICES] = metadata.encode_array(indices.astype(np.int32))
        blobs[metadata.SAMPLE_LABELS] = metadata.encode_array(self.labels[indices].astype(np.int32))
        write_blobs(
            metadata.feature_correlations_tag(name, step),
            blobs,
            step,
            metadata.create_summary_metadata(
                metadata.KIND_FEATURE_CORRELATIONS,
                layer=name,
                epoch=step,
                num_features=self.dims[self.layers.index(name)],
                num_points=len(self.labels),
                class_names=self.class_names,
                feature_sampling="evenly spaced",
                sample_sampling="balanced across classes",
            ),
        )

    def _write_augmentation_variance(self, step, layers, augmented):
        variances = [correlation.augmentation_variance(augmented[n], layers[n]) for n in self.layers]
        write_blobs(
            metadata.augmentation_variance_tag(step),
            [metadata.encode_array(v) for v in variances],
            step,
            metadata.create_summary_metadata(
                metadata.KIND_AUGMENTATION_VARIANCE,
                epoch=step,
                layers=self.layers,
                dims=self.dims,
                sampled_dims=self.sampled_dims,
                input_index=self.input_index,
                num_augmentations=self.num_augmentations,
                augmentation=self.augmentation,
                threshold=self.threshold,
            ),
        )


def _lower_thread_priority():
    """Gives this (writer) thread the lowest CPU priority on Linux, so that training goes first.

    Linux sets the nice value of one thread given its id; elsewhere the id
    would not name a thread, so nothing is changed. Nor is the main thread's
    (the priority cannot be raised again, and training runs there).
    """
    if sys.platform.startswith("linux") and threading.current_thread() is not threading.main_thread():
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:
            pass


@functools.lru_cache(maxsize=None)
def _thread_pools():
    """The process's native thread pools (found once: finding them takes milliseconds)."""
    return threadpoolctl.ThreadpoolController()


def _warn_non_finite(step, activations):
    for name, values in activations.items():
        if not np.isfinite(values).all():
            logger.warning(
                "nnviz_tb: layer %r has NaN or infinite activations at epoch %d; "
                "those features are left out of its correlations.", name, step
            )
