"""Which layers of a model can be recorded, and which are recorded by default.

A candidate is one call of one layer during a forward pass. Layers of a
functional or Sequential model are read from its graph (their symbolic
outputs let one extra model compute them). Layers of a subclassed model and
layers inside nested models (a `keras.applications` backbone inside a
Sequential model) are found by running the model once on two probe points
with every sublayer's `call` wrapped (`CallRecorder`); their outputs are
captured the same way while recording.

Names: a layer called once is named by its name; the k-th further call of a
shared layer is `"<name>@<k>"`; a layer inside another layer or nested model
is `"<outer>/<name>"`.
"""

import dataclasses

import keras
import numpy as np
from keras.src.models.functional import Functional
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
_MERGE_TYPES = tuple(
    getattr(keras.layers, name)
    for name in "Add Subtract Multiply Average Maximum Minimum Concatenate".split()
)
_ACTIVATION_TYPES = (keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU,
                     keras.layers.PReLU, keras.layers.ELU)
_FOLLOWER_TYPES = _ACTIVATION_TYPES + tuple(
    getattr(keras.layers, name)
    for name in "BatchNormalization LayerNormalization GroupNormalization UnitNormalization Softmax".split()
)
# Layers whose sublayers run step by step (RNN cells): their insides are not candidates.
_OPAQUE_TYPES = (keras.layers.RNN, keras.layers.Bidirectional)

# Most layers recorded by default; `layers="all"` records every hidden layer.
MAX_DEFAULT_LAYERS = 12


@dataclasses.dataclass
class Candidate:
    """One call of one layer.

    Attributes:
      name: Its name (see the module docstring).
      layer: The layer.
      call: Which call of the layer in one forward pass (0 = the first).
      shape: Output shape without the batch axis (None for an unknown size).
      tensor: Symbolic output in the model's own graph, or None when it must
        be captured during a forward pass.
    """

    name: str
    layer: object
    call: int
    shape: tuple
    tensor: object = None


def graph_of(model):
    """The functional graph of a model (a Sequential one's inner model), or None."""
    if isinstance(model, keras.Sequential):
        return getattr(model, "_functional", None)
    return model if isinstance(model, Functional) else None


def graph_candidates(model):
    """Candidates of every call of every top-level layer of a functional or Sequential model."""
    graph = graph_of(model)
    nodes = getattr(graph, "_nodes", None)
    found = []
    for layer in model.layers:
        calls = 0
        for index, node in enumerate(layer._inbound_nodes):
            if nodes is not None and make_node_key(layer, index) not in nodes:
                continue  # A call of the layer outside this model.
            outputs = node.outputs
            if len(outputs) == 1:  # Layers with several outputs are skipped.
                name = layer.name if calls == 0 else "%s@%d" % (layer.name, calls)
                found.append(Candidate(name, layer, calls, tuple(outputs[0].shape[1:]), outputs[0]))
            calls += 1
    return found


def _sublayers(layer):
    """Every layer inside `layer`, depth first (not inside RNNs)."""
    for sub in layer._flatten_layers(include_self=False, recursive=False):
        yield sub
        if not isinstance(sub, _OPAQUE_TYPES):
            yield from _sublayers(sub)


class CallRecorder:
    """Wraps the `call` of chosen layers to keep their outputs during forward passes.

    Inside `with recorder:`, `recorder.calls` lists `(name, layer, call
    index, output)` in the order the calls return; outputs that are not one
    tensor are left out.
    """

    def __init__(self, layers):
        self._layers = list({id(layer): layer for layer in layers}.values())

    def __enter__(self):
        self.calls, self._counts, self._path = [], {}, []
        self._saved = []
        for layer in self._layers:
            self._saved.append(layer.__dict__.get("call"))
            object.__setattr__(layer, "call", self._wrap(layer, layer.call))
        return self

    def _wrap(self, layer, original):
        def call(*args, **kwargs):
            self._path.append(layer.name)
            try:
                output = original(*args, **kwargs)
            finally:
                self._path.pop()
            index = self._counts[id(layer)] = self._counts.get(id(layer), -1) + 1
            if keras.ops.is_tensor(output):
                name = "/".join(self._path + [layer.name]) + ("@%d" % index if index else "")
                self.calls.append((name, layer, index, output))
            return output

        return call

    def __exit__(self, *exc):
        for layer, saved in zip(self._layers, self._saved):
            if saved is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", saved)


def traced_candidates(model, sample):
    """`(candidates, outputs, producers)` of one forward pass of `model` on `sample`.

    Every sublayer's call is a candidate (with its real output shape);
    `outputs` is the model's output structure (eager tensors) and
    `producers` maps `id(tensor)` to the name of the call that returned it.
    """
    with CallRecorder(list(_sublayers(model))) as recorder:
        outputs = model(sample, training=False)
    candidates = [
        Candidate(name, layer, index, tuple(output.shape[1:]))
        for name, layer, index, output in recorder.calls
    ]
    producers = {id(output): name for name, _, _, output in recorder.calls}
    return candidates, outputs, producers


def is_hidden(layer):
    """Whether a layer's output is a hidden representation (custom layers included)."""
    return isinstance(layer, HIDDEN_LAYER_TYPES) or type(layer).__module__.split(".")[0] != "keras"


def default_choice(candidates, output_layers, all_layers=False):
    """The candidates recorded by default.

    Every hidden layer (`is_hidden`) and the output layers, if there are at
    most `MAX_DEFAULT_LAYERS` of them or `all_layers`. Otherwise, for deep
    models, the outputs of stages and blocks, the model's outputs among them:

    * feature maps and sequences, in runs of layers of the same spatial
      resolution: the output of each stage, i.e. its last merge (such as
      ResNet's residual `Add`) with the activations right after it, or its
      last hidden layer if it has no merge or, for the last stage, if that
      comes later; when all feature maps share one resolution (Transformers),
      the output of every block (every merge) instead;
    * layers without spatial axes (dense layers, pooled representations): the
      last layer of each block, a block being a layer followed by its
      normalisation and activation layers.

    If still more, `MAX_DEFAULT_LAYERS` of them, evenly spaced, the outputs
    kept.
    """
    outputs = set(output_layers)
    hidden = [c for c in candidates if is_hidden(c.layer) or c.name in outputs]
    if all_layers or len(hidden) <= MAX_DEFAULT_LAYERS:
        return hidden
    runs = _runs(candidates)
    spatial = [run for run in runs if len(run[0].shape) >= 2 and any(is_hidden(c.layer) for c in run)]
    chosen = []
    for i, run in enumerate(runs):
        if len(run[0].shape) < 2:
            chosen.extend(_block_ends(run))
        else:
            final = i + 1 == len(runs) or len(runs[i + 1][0].shape) < 2
            chosen.extend(_stage_outputs(run, final, every_block=len(spatial) == 1))
    picked = {id(c) for c in chosen}
    chosen = [c for c in candidates if id(c) in picked or c.name in outputs]
    if len(chosen) > MAX_DEFAULT_LAYERS:
        kept = [c for c in chosen if c.name in outputs]
        others = [c for c in chosen if c.name not in outputs]
        picks = np.unique(np.linspace(0, len(others) - 1, MAX_DEFAULT_LAYERS - len(kept)).round().astype(int))
        keep = {id(others[i]) for i in picks} | {id(c) for c in kept}
        chosen = [c for c in chosen if id(c) in keep]
    return chosen


def _runs(candidates):
    """Consecutive candidates with the same spatial shape (the same shape if they have no spatial axes)."""
    runs = []
    for c in candidates:
        key = c.shape[:-1] if len(c.shape) >= 2 else ("flat", c.shape)
        if runs and runs[-1][0] == key:
            runs[-1][1].append(c)
        else:
            runs.append((key, [c]))
    return [run for _, run in runs]


def _stage_outputs(run, final, every_block):
    """The output(s) of a run of same-resolution layers (see `default_choice`)."""
    ends = []
    for i, c in enumerate(run):
        if isinstance(c.layer, _MERGE_TYPES):
            while (i + 1 < len(run) and isinstance(run[i + 1].layer, _ACTIVATION_TYPES)
                   and run[i + 1].shape == run[i].shape):
                i += 1
            ends.append(i)
    picks = ends if every_block else ends[-1:]
    last_hidden = max((i for i, c in enumerate(run) if is_hidden(c.layer)), default=None)
    if last_hidden is not None and (not ends or (final and last_hidden > ends[-1])):
        picks = (picks if every_block else []) + [last_hidden]
    return [run[i] for i in sorted(set(picks))]


def _block_ends(run):
    """The last hidden layer of each block of a run of layers without spatial axes."""
    ends = []
    for c in run:
        if not is_hidden(c.layer):
            continue
        if ends and isinstance(c.layer, _FOLLOWER_TYPES):
            ends[-1] = c
        else:
            ends.append(c)
    return ends


def choose(candidates, names, output_layers, more_candidates=None):
    """The candidates named by the user's `layers` argument.

    Args:
      candidates: The model's candidates.
      names: None (the default choice), `"all"` or a list of names.
      output_layers: Names of the candidates that are model outputs.
      more_candidates: Called with no argument, returns candidates to look
        in for names not in `candidates` (layers inside nested models).

    Raises:
      ValueError: for names the model does not have.
    """
    if names is None or names == "all":
        return default_choice(candidates, output_layers, all_layers=names == "all")
    by_name = {c.name: c for c in candidates}
    if any(name not in by_name for name in names) and more_candidates is not None:
        by_name.update((c.name, c) for c in more_candidates() if c.name not in by_name)
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(
            "The 'layers' parameter names layers the model does not have: %s. "
            "Available layers: %s." % (unknown, list(by_name))
        )
    return [by_name[name] for name in names]
