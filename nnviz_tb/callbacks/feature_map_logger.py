"""`FeatureMapLogger`: conv feature maps of a few images, and the first conv layer's filters, as images."""

import functools
import logging

import keras
import numpy as np

from nnviz_tb import feature_maps, layer_choice, probe as probe_lib
from nnviz_tb.callbacks.epoch_recorder import EpochRecorder, check_layer_names
from nnviz_tb.summary import write_image

logger = logging.getLogger(__name__)

MAX_DEFAULT_LAYERS = 8
CONV_TYPES = (keras.layers.Conv1D, keras.layers.Conv2D)


def _check_images(images):
    shape = getattr(images, "shape", None)
    if shape is None or len(shape) < 2 or shape[0] < 1:
        raise ValueError(
            "The 'images' parameter must be an array of model inputs [N, ...] with N >= 1. Got %r instead."
            % (images if shape is None else "an array of shape %s" % (tuple(shape),),)
        )
    return np.asarray(images)


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError("The '%s' parameter must be True or False. Got %r instead." % (name, value))
    return value


class FeatureMapLogger(EpochRecorder):
    """Writes conv layers' feature maps of a few images to TensorBoard's Images tab.

    Before training (step 0) and after every `every_n_epochs` epochs (step =
    epochs trained; the last epoch of a fit too), each recorded conv layer
    gives one grayscale grid, tag `feature_maps/<layer>`: one row per
    image, one column per channel (the first `max_channels`), white lines
    between cells. The maps of one grid are min-max scaled together (per
    layer and epoch: black = the lowest value shown, white = the highest),
    so brightness compares channels and images of one layer at one epoch,
    not layers or epochs. Conv1D maps are strips 8 pixels high. With
    `filters`, the first recorded layer's kernel goes to `filters/<layer>`:
    one row per input channel, one column per filter, scaled the same way.
    Only the chief worker of a `tf.distribute` cluster writes.

    Storage: per recorded epoch and layer about `N * C * H * W` bytes
    (N images, C shown channels of H x W) before PNG compression.

    Args:
      log_dir: Run directory (local path or `tf.io.gfile` URL).
      images: Model inputs `[N, ...]`, e.g. 4 test images; all go through
        the model in one batch.
      layers: Names of the Conv1D / Conv2D layers to record (a layer inside
        a nested model is `"<outer>/<name>"`). Defaults to every Conv1D and
        Conv2D layer, nested models included, at most 8 (the first ones).
      max_channels: Channels (and filters) shown per layer. Defaults to 16.
      filters: Whether to write the first recorded layer's filters.
        Defaults to True.
      every_n_epochs: Record every this many epochs. Defaults to 1.

    Example:

    ```python
    maps = nnviz_tb.FeatureMapLogger("logs/cnn", images=x_test[:4])
    model.fit(x_train, y_train, epochs=10, callbacks=[maps])
    # then: tensorboard --logdir logs  (Images tab: feature_maps/conv2d)
    ```
    """

    def __init__(self, log_dir, images, layers=None, max_channels=16, filters=True, every_n_epochs=1):
        super().__init__(log_dir, every_n_epochs)
        self.images = _check_images(images)
        self.layers = check_layer_names("layers", layers)
        self.max_channels = probe_lib.check_positive_int("max_channels", max_channels)
        self.filters = _check_bool("filters", filters)
        self._chosen = None
        self._warned = False

    def set_model(self, model):
        super().set_model(model)
        self._chosen = None
        if model.built:  # Fail before training on a model without conv layers or bad names.
            self._chosen = self._choose()

    def on_train_begin(self, logs=None):
        if self._chosen is None:
            self._chosen = self._choose()
        super().on_train_begin(logs)

    def _choose(self):
        """The recorded candidates (`layer_choice.Candidate`), or ValueError."""
        candidates, _, _ = layer_choice.traced_candidates(self.model, self.images[:1])
        convs = [c for c in candidates if isinstance(c.layer, CONV_TYPES)]
        if not convs:
            raise ValueError("FeatureMapLogger needs a model with Conv1D or Conv2D layers; %r has none."
                             % self.model.name)
        if self.layers is None:
            return convs[:MAX_DEFAULT_LAYERS]
        by_name = {c.name: c for c in convs}
        unknown = [name for name in self.layers if name not in by_name]
        if unknown:
            raise ValueError("The 'layers' parameter must name Conv1D or Conv2D layers of the model (%s). "
                             "Got %r instead." % (", ".join(sorted(by_name)), unknown))
        return [by_name[name] for name in self.layers]

    def feature_maps_(self):
        """`{layer name: output array}` of the recorded layers for `images` (one forward pass)."""
        wanted = {(id(c.layer), c.call): c.name for c in self._chosen}
        with layer_choice.CallRecorder([c.layer for c in self._chosen]) as recorder:
            self.model(self.images, training=False)
        return {wanted[(id(layer), i)]: keras.ops.convert_to_numpy(value)
                for _, layer, i, value in recorder.calls if (id(layer), i) in wanted}

    def _record(self, step):
        try:
            maps = self.feature_maps_()
            grids = {feature_maps.feature_map_tag(c.name): feature_maps.feature_map_grid(
                maps[c.name], self.max_channels, c.layer.data_format == "channels_first") for c in self._chosen}
            if self.filters:
                first = self._chosen[0]
                grids[feature_maps.filters_tag(first.name)] = feature_maps.filter_grid(
                    keras.ops.convert_to_numpy(first.layer.kernel), self.max_channels)
        except Exception as e:  # Never crash training.
            if not self._warned:
                logger.warning("nnviz_tb FeatureMapLogger could not record step %d: %s", step, e)
            self._warned = True
            return
        self._writer.submit(functools.partial(_write_images, step, grids))


def _write_images(step, grids):
    for tag, grid in grids.items():
        write_image(tag, grid, step)
