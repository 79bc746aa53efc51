"""Which layers to record, and how to compute their outputs for the probe set.

`LayerOutputs` builds one extra Keras model that shares the trained model's
layers and returns every chosen layer's output, already reduced to one vector
per sample (so feature maps never leave the device whole), plus the model's
prediction. The probe set goes through it in batches whose size keeps every
intermediate tensor under a memory budget.
"""

import math

import keras
import numpy as np
from keras.src.ops.function import make_node_key  # How Keras keys graph nodes.

# Layers whose output is a hidden representation, recorded by default.
_HIDDEN_LAYER_NAMES = (
    "Dense EinsumDense Embedding "
    "Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose "
    "SeparableConv1D SeparableConv2D DepthwiseConv1D DepthwiseConv2D "
    "MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D "
    "AveragePooling3D GlobalAveragePooling1D GlobalAveragePooling2D "
    "GlobalAveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D "
    "Activation ReLU LeakyReLU PReLU ELU Softmax "
    "BatchNormalization LayerNormalization GroupNormalization UnitNormalization "
    "RNN SimpleRNN LSTM GRU Bidirectional"
).split()
HIDDEN_LAYER_TYPES = tuple(
    getattr(keras.layers, name) for name in _HIDDEN_LAYER_NAMES if hasattr(keras.layers, name)
) + (keras.Model,)

REDUCTIONS = ("mean", "max", "flatten")


def _graph_nodes(model):
    """Node keys of the model's own graph (`None` if Keras keeps none)."""
    graph = getattr(model, "_functional", None) or model  # Sequential wraps one.
    return getattr(graph, "_nodes", None)


def layer_output_tensors(model):
    """Lists `(name, layer, symbolic output)` for every call of every layer.

    A layer called once is named by its name; the k-th further call of a
    shared layer is named `"<name>@<k>"`.
    """
    nodes = _graph_nodes(model)
    found = []
    for layer in model.layers:
        calls = 0
        for index, node in enumerate(layer._inbound_nodes):
            if nodes is not None and make_node_key(layer, index) not in nodes:
                continue  # A call of the layer outside this model.
            name = layer.name if calls == 0 else "%s@%d" % (layer.name, calls)
            outputs = node.outputs
            if len(outputs) == 1:  # Layers with several outputs are skipped.
                found.append((name, layer, outputs[0]))
            calls += 1
    return found


def choose_layers(model, names=None):
    """Returns the `(name, layer, tensor)` triples to record.

    Args:
      model: A built Keras model.
      names: Layer names to record, or None for every hidden layer (see
        `HIDDEN_LAYER_TYPES`) plus the output layer.

    Raises:
      ValueError: for names the model does not have, or an unbuilt model.
    """
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError(
            "nnviz_tb needs a built model with known inputs: give the first layer "
            "an input shape (e.g. keras.Input) or call model.build() before fit()."
        )
    candidates = layer_output_tensors(model)
    if names is None:
        output_ids = {id(t) for t in model.outputs}
        return [
            (name, layer, tensor)
            for name, layer, tensor in candidates
            if isinstance(layer, HIDDEN_LAYER_TYPES) or id(tensor) in output_ids
        ]
    by_name = {name: (name, layer, tensor) for name, layer, tensor in candidates}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(
            "The 'layers' parameter names layers the model does not have: %s. "
            "Available layers: %s." % (unknown, list(by_name))
        )
    return [by_name[name] for name in names]


def _reduce(tensor, reduction, max_dim, channels_first):
    """Reduces a `[N, *spatial, C]` tensor to `[N, D]` and describes how."""
    rank = len(tensor.shape)
    if rank == 2:
        return tensor, "none"
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


class LayerOutputs:
    """Computes the reduced outputs of chosen layers for a probe set.

    Args:
      model: The (built) Keras model being trained.
      layers: Layer names, or None for the default choice (`choose_layers`).
      reduction: How outputs with spatial axes (conv feature maps, sequences)
        become vectors: `"mean"` (global average pooling), `"max"` (global
        max pooling) or `"flatten"` (average-pooled with the smallest window
        that brings the size under `max_dim`, then flattened).
      max_dim: Dimension cap for `"flatten"`.
      batch_memory_mb: Budget for the unreduced outputs of one batch.
    """

    def __init__(self, model, layers=None, reduction="mean", max_dim=2048, batch_memory_mb=64):
        chosen = choose_layers(model, layers)
        self.names = [name for name, _, _ in chosen]
        self.kinds = [type(layer).__name__ for _, layer, _ in chosen]
        outputs, self.reductions = [], []
        for _, layer, tensor in chosen:
            channels_first = getattr(layer, "data_format", None) == "channels_first"
            reduced, how = _reduce(tensor, reduction, max_dim, channels_first)
            outputs.append(reduced)
            self.reductions.append(how)
        self.dims = [int(t.shape[-1]) for t in outputs]
        self.output_shapes = [list(t.shape[1:]) for _, _, t in chosen]
        outputs.append(model.outputs[0])
        self._model = keras.Model(model.inputs, outputs)
        self.batch_size = self._batch_size(model, batch_memory_mb)

    @staticmethod
    def _batch_size(model, batch_memory_mb):
        per_sample = 0
        for layer in model.layers:
            for node in layer._inbound_nodes:
                for tensor in node.outputs:
                    per_sample += math.prod(d or 1 for d in tensor.shape[1:]) * 4
        return max(1, int(batch_memory_mb * 2**20 // max(per_sample, 1)))

    def describe(self):
        """Per-layer description stored with the data."""
        return [
            {"name": n, "kind": k, "dim": d, "output_shape": s, "reduction": r}
            for n, k, d, s, r in zip(
                self.names, self.kinds, self.dims, self.output_shapes, self.reductions
            )
        ]

    def __call__(self, x):
        """Returns `({name: float32 [N, D]}, predicted class int32 [N])`."""
        num = _length(x)
        results = [np.empty((num, d), np.float32) for d in self.dims]
        predictions = np.empty(num, np.int32)
        for start in range(0, num, self.batch_size):
            batch = _slice(x, start, start + self.batch_size)
            values = self._model.predict_on_batch(batch)
            for result, value in zip(results, values[:-1]):
                result[start : start + len(value)] = value
            predictions[start : start + len(values[-1])] = _predicted_class(values[-1])
        return dict(zip(self.names, results)), predictions


def _predicted_class(output):
    output = np.asarray(output).reshape(len(output), -1)
    if output.shape[1] == 1:  # One sigmoid unit.
        return (output[:, 0] > 0.5).astype(np.int32)
    return output.argmax(axis=1).astype(np.int32)


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
