"""The chosen layers' outputs for the probe set, reduced to one vector per point.

For layers in the model's own graph (functional and Sequential models),
`LayerOutputs` builds one extra Keras model that shares the trained model's
layers and returns every chosen layer's output already reduced (so feature
maps never leave the device whole), plus the labelled output. For layers
of subclassed models and layers inside nested models, the probe goes through
the model itself (`model(batch, training=False)`, compiled with
`tf.function`) while the chosen layers' `call` is wrapped to keep their
outputs (`layer_choice.CallRecorder`). Either way the probe set goes through
in batches whose size keeps every intermediate tensor under a memory budget.

For graph models the pass can also run later, on another thread, on a copy
of the weights taken now (`snapshot`), so that training goes on meanwhile.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from nnviz_tb import layer_choice, prediction
from nnviz_tb.analysis.correlation import evenly_spaced

REDUCTIONS = ("mean", "max", "flatten")


def _reduce(tensor, reduction, max_dim, channels_first):
    """Reduces a `[N, *spatial, C]` tensor to float32 `[N, D]` and describes how."""
    tensor = keras.ops.cast(tensor, "float32")
    rank = len(tensor.shape)
    if rank <= 2:
        return keras.ops.reshape(tensor, (-1, 1)) if rank == 1 else tensor, "none"
    if channels_first:
        tensor = keras.ops.moveaxis(tensor, 1, -1)
    spatial = tuple(range(1, rank - 1))
    if reduction == "mean":
        return keras.ops.mean(tensor, axis=spatial), "global_mean"
    if reduction == "max":
        return keras.ops.max(tensor, axis=spatial), "global_max"
    sizes = list(tensor.shape[1:-1])
    channels = tensor.shape[-1]
    pool = 1
    while pool < max(sizes) and channels * math.prod(math.ceil(s / pool) for s in sizes) > max_dim:
        pool += 1
    if pool > 1:
        tensor = keras.ops.average_pool(tensor, pool, strides=pool, padding="same")
    flat = keras.ops.reshape(tensor, (-1, math.prod(tensor.shape[1:])))
    return flat, "flatten" if pool == 1 else "avg_pool_%d_flatten" % pool


def _channels_first(layer):
    return getattr(layer, "data_format", None) == "channels_first"


class LayerOutputs:
    """Computes the reduced outputs of chosen layers and the predicted classes of a probe set.

    Args:
      model: The Keras model being trained (built, or buildable by calling
        it on the probe inputs).
      layers: Layer names, `"all"`, or None for the default choice
        (`layer_choice.default_choice`).
      reduction: How outputs with spatial axes (conv feature maps, sequences)
        become vectors: `"mean"` (global average pooling), `"max"` (global
        max pooling) or `"flatten"` (average-pooled with the smallest window
        that brings the size under `max_dim`, then flattened; axes of
        unknown length take the probe's length).
      max_dim: Dimension cap for `"flatten"`.
      batch_memory_mb: Budget for the unreduced outputs of one batch.
      probe_x: The probe inputs; its first two points go through the model
        once here where the model has no graph (subclassed models) or
        layers inside nested models are chosen, to find those layers and
        their output shapes. Needed only then.
      num_classes: Number of classes of the probe labels, or None.
      output: Name of the output the labels belong to, or None
        (`prediction.choose_output`).
      from_logits: How a one-unit output is thresholded, or None
        (`prediction.choose_rule`).
      warn: Whether to warn when the output is a guess among several.

    Attributes:
      names, kinds, dims, output_shapes, reductions: Per recorded layer.
      output_name, rule: The labelled output and how it gives classes.
      captured: Whether outputs are captured during forward passes (else
        computed by an extra functional model).
      batch_size: Probe points per forward pass.
    """

    def __init__(self, model, layers=None, reduction="mean", max_dim=2048, batch_memory_mb=64,
                 probe_x=None, num_classes=None, output=None, from_logits=None, warn=True):
        self._model = model
        self._sample = None if probe_x is None else _slice(probe_x, 0, 2)
        if not model.built:  # A subclassed model or a Sequential one without an Input.
            _run_sample(model, self._require_sample())
        self._graph = layer_choice.graph_of(model)
        self._trace = None
        outputs, structure, output_layers, producers = self._outputs_and_candidates()
        chosen = layer_choice.choose(self._top, layers, output_layers, self._inner_candidates)
        names = _output_names(structure, outputs, producers)
        widths = [math.prod(d or 1 for d in t.shape[1:]) for t in outputs]
        index = prediction.choose_output(names, widths, num_classes, output, warn=warn)
        self.output_name = names[index]
        loss = prediction.loss_of(getattr(model, "loss", None), names, index)
        self.rule = prediction.choose_rule(widths[index], producers[index], loss, from_logits)
        self.names = [c.name for c in chosen]
        self.kinds = [type(c.layer).__name__ for c in chosen]
        self.captured = self._graph is None or not all(
            c.tensor is not None and (reduction != "flatten" or None not in c.shape) for c in chosen
        )
        build = self._captured_forward if self.captured else self._graph_forward
        self._forward = build(chosen, index, reduction, max_dim)
        self.batch_size = max(1, int(batch_memory_mb * 2**20 // max(self._per_sample_bytes(), 1)))

    def _outputs_and_candidates(self):
        """Sets `self._top` (top-level candidates); returns the flat outputs, their
        structure, the names of the candidates that are outputs and each output's layer."""
        model = self._model
        if self._graph is None:
            self._trace, structure, producer_names = layer_choice.traced_candidates(
                model, self._require_sample()
            )
            self._top = [c for c in self._trace if "/" not in c.name]
            outputs = keras.tree.flatten(structure)
            names = [producer_names.get(id(t)) for t in outputs]
            by_name = {c.name: c.layer for c in self._trace}
            return outputs, structure, set(names), [by_name.get(n) for n in names]
        self._top = layer_choice.graph_candidates(model)
        output_ids = {id(t) for t in model.outputs}
        output_layers = {c.name for c in self._top if id(c.tensor) in output_ids}
        producers = [t._keras_history[0] for t in model.outputs]
        return model.outputs, self._graph._outputs_struct, output_layers, producers

    def _require_sample(self):
        if self._sample is None:
            raise ValueError("nnviz_tb needs the probe inputs ('probe_x') to trace this model's layers.")
        return self._sample

    def _inner_candidates(self):
        """Candidates inside nested layers (run once, on demand)."""
        if self._trace is None:
            self._trace = layer_choice.traced_candidates(self._model, self._require_sample())[0]
        return [c for c in self._trace if "/" in c.name]

    def _graph_forward(self, chosen, index, reduction, max_dim):
        reduced, self.reductions = [], []
        for c in chosen:
            tensor, how = _reduce(c.tensor, reduction, max_dim, _channels_first(c.layer))
            reduced.append(tensor)
            self.reductions.append(how)
        self.dims = [int(t.shape[-1]) for t in reduced]
        self.output_shapes = [list(c.shape) for c in chosen]
        model = self._model
        probe_model = keras.Model(model.inputs, reduced + [model.outputs[index]])
        self._probe_model = probe_model

        @tf.function(reduce_retracing=True)
        def on_weights(weights, batch):
            outputs, _ = probe_model.stateless_call(*weights, batch, training=False)
            return keras.tree.flatten(outputs)

        self._on_weights = on_weights
        return lambda batch: keras.tree.flatten(probe_model.predict_on_batch(batch))  # A list, even of one.

    def _captured_forward(self, chosen, index, reduction, max_dim):
        model = self._model
        recorder = layer_choice.CallRecorder([c.layer for c in chosen])
        wanted = [((id(c.layer), c.call), _channels_first(c.layer)) for c in chosen]

        def forward(batch, keep=None):
            with recorder:
                outputs = model(batch, training=False)
            by_call = {(id(layer), i): value for _, layer, i, value in recorder.calls}
            missing = [c.name for (key, _), c in zip(wanted, chosen) if key not in by_call]
            if missing:
                raise ValueError(
                    "nnviz_tb could not capture the outputs of %s during a forward pass of the "
                    "model; choose other layers with the 'layers' parameter." % missing
                )
            if keep is not None:
                keep.extend(list(by_call[key].shape[1:]) for key, _ in wanted)
            reduced = [_reduce(by_call[key], reduction, max_dim, first) for key, first in wanted]
            return [r for r, _ in reduced], [how for _, how in reduced], keras.tree.flatten(outputs)[index]

        def compiled_forward(batch):
            values, _, output = forward(batch)
            return values + [output]

        self.output_shapes = []
        values, self.reductions, _ = forward(self._require_sample(), keep=self.output_shapes)
        self.dims = [int(v.shape[-1]) for v in values]
        compiled = tf.function(compiled_forward, reduce_retracing=True)
        return lambda batch: [np.asarray(v) for v in compiled(batch)]

    def _per_sample_bytes(self):
        """float32 bytes of every layer output for one sample (the traced ones if known)."""
        if self.captured:
            self._inner_candidates()
            return sum(math.prod(d or 1 for d in c.shape) * 4 for c in self._trace)
        return _graph_bytes(self._model)

    def kept_columns(self, max_dim):
        """Per layer, the `max_dim` evenly spaced features that stand for a wider layer (None: all)."""
        return [None if d <= max_dim else evenly_spaced(d, max_dim) for d in self.dims]

    def describe(self):
        """Per-layer description stored with the data."""
        return [
            {"name": n, "kind": k, "dim": d, "output_shape": s, "reduction": r}
            for n, k, d, s, r in zip(
                self.names, self.kinds, self.dims, self.output_shapes, self.reductions
            )
        ]

    def snapshot(self):
        """A copy of the weights the pass reads, for `__call__(..., weights=)`; None where the pass
        cannot run on a copy (subclassed or nested models, distributed variables): then run it now.

        Costs the memory of those weights while the copy is kept."""
        if self.captured or tf.distribute.has_strategy():
            return None
        variables = (self._probe_model.trainable_variables, self._probe_model.non_trainable_variables)
        if any(isinstance(v.value, tf.distribute.DistributedValues) for group in variables for v in group):
            return None
        return tuple([tf.identity(v.value) for v in group] for group in variables)

    def __call__(self, x, columns=None, weights=None):
        """Returns `({name: float32 [N, D]}, predicted class int32 [N])`.

        `columns`, per layer, keeps only those features (None: all), batch by
        batch, so a wide layer is never whole in memory. `weights`: a
        `snapshot()` to compute with instead of the model's weights now.
        """
        num = _length(x)
        columns = columns or [None] * len(self.dims)
        results = [np.empty((num, d if c is None else len(c)), np.float32) for d, c in zip(self.dims, columns)]
        predictions = np.empty(num, np.int32)
        for start in range(0, num, self.batch_size):
            batch = _slice(x, start, start + self.batch_size)
            values = self._forward(batch) if weights is None else self._on_weights(weights, batch)
            for result, value, kept in zip(results, values[:-1], columns):
                value = np.asarray(value)
                result[start : start + len(value)] = value if kept is None else value[:, kept]
            predictions[start : start + len(values[-1])] = prediction.predicted_class(values[-1], self.rule)
        return dict(zip(self.names, results)), predictions


def _output_names(structure, outputs, producers):
    """Names of the flat outputs: the keys of a dict output, else the producing layers' names."""
    keys = {id(v): k for k, v in structure.items()} if isinstance(structure, dict) else {}
    names = [
        keys.get(id(t)) or getattr(layer, "name", None) or "output_%d" % i
        for i, (t, layer) in enumerate(zip(outputs, producers))
    ]
    return names if len(set(names)) == len(names) else ["output_%d" % i for i in range(len(names))]


def _run_sample(model, sample):
    try:
        model(sample, training=False)
    except Exception as e:
        raise ValueError(
            "nnviz_tb needs a built model: running the model on the first probe points to build "
            "it failed (%s: %s). Give the first layer an input shape (e.g. keras.Input) or call "
            "model.build() before fit()." % (type(e).__name__, e)
        ) from e


def _graph_bytes(model):
    """float32 bytes of every layer output of a graph model for one sample, nested models included."""
    total = 0
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for tensor in node.outputs:
                total += math.prod(d or 1 for d in tensor.shape[1:]) * 4
        if layer_choice.graph_of(layer) is not None:
            total += _graph_bytes(layer)
    return total


def _length(x):
    if isinstance(x, dict):
        return len(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return len(x[0])
    return len(x)


def _slice(x, start, stop):
    if isinstance(x, dict):
        return {k: v[start:stop] for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [v[start:stop] for v in x]
    return x[start:stop]
