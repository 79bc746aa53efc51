"""Writes layer activations in the format of TensorBoard's Projector tab, with no checkpoint.

Everything goes to `<run>/plugins/org_tensorflow_tensorboard_projector/`,
where the Projector looks for a `projector_config.pbtxt` (asset paths are
relative to it, as TensorBoard 2.21 requires):

* one tensor file per layer and recorded epoch, `<k>_<layer>_epoch_<step>.bin`:
  raw little-endian float32 `[N, D]`, its shape in the config's
  `tensor_shape`. The Projector tries a tensor file as TSV text first and
  reads it as binary only when a line fails to decode as UTF-8, so a
  tensor whose bytes it would not read as binary (all zeros: a dead layer;
  zeros and a newline byte before the first non-UTF-8 byte) is written as
  TSV (`.tsv`, the same float32 values) instead;
* one metadata TSV per recorded epoch, `metadata_epoch_<step>.tsv`, with a
  header row (the Projector needs one when there are several columns):
  `label` (true class name), `predicted` (predicted class name),
  `correct` (`yes`/`no`) and `index` (the probe index);
* `sprite.png`, the probe images as one sheet of thumbnails, row by row,
  at most `MAX_SPRITE_SIDE` pixels a side (the Projector's limit);
* `projector_config.pbtxt`, one embedding per layer x epoch named
  `"<layer> @ epoch <step>"` (3 digits, as the Projector sorts the names
  alphabetically), rewritten atomically (a temporary file, then a rename)
  after each epoch's files are complete.
"""

import math
import os
import re

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from tensorboard.plugins import projector
from tensorboard.plugins.projector import metadata as projector_metadata

from nnviz_tb import png

ASSETS_DIR = os.path.join(projector_metadata.PLUGINS_DIR, projector_metadata.PLUGIN_ASSETS_NAME)
CONFIG_NAME = projector_metadata.PROJECTOR_FILENAME
SPRITE_NAME = "sprite.png"
MAX_SPRITE_SIDE = 8192
METADATA_COLUMNS = ("label", "predicted", "correct", "index")


def embedding_name(layer, step):
    """The name the Projector lists for `layer`'s activations after `step` epochs."""
    return "%s @ epoch %03d" % (layer, step)


def assets_dir(log_dir):
    """The directory of a run's Projector files."""
    return "%s/%s" % (str(log_dir).rstrip("/"), ASSETS_DIR)


def encode_tensor(values):
    """`(bytes, extension)` of float32 `[N, D]` `values` as the Projector reads them.

    Raw little-endian float32 (`".bin"`), unless the Projector would not
    read those bytes as binary (`read_as_binary`): then TSV (`".tsv"`) with
    every float32 written exactly.
    """
    values = np.ascontiguousarray(values, dtype="<f4")
    data = values.tobytes()
    if read_as_binary(data):
        return data, ".bin"
    lines = ("\t".join(map(repr, row)) for row in values.astype(np.float64).tolist())
    return ("\n".join(lines) + "\n").encode("ascii"), ".tsv"


def read_as_binary(data):
    """Whether TensorBoard's Projector reads a tensor file holding `data` as binary float32.

    It reads the file as TSV text, line by line, and falls back to binary on
    the first line that is not UTF-8; a line before it that decodes but is
    no row of numbers (ASCII bytes of zeros or small floats followed by a
    newline byte) makes the read fail instead, and a file that decodes
    throughout is taken for text.
    """
    start = 0
    while True:
        end = data.find(b"\n", start)
        line = data[start:] if end < 0 else data[start:end]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return True
        if text:
            try:
                [float(v) for v in text.split("\t")]
            except ValueError:
                return False
        if end < 0:
            return False
        start = end + 1


def metadata_tsv(labels, predictions, class_names):
    """The metadata TSV (header row, then one row per probe point) of one epoch.

    A predicted class without a name (an output wider than the classes) is
    written as its number.
    """
    count = max(len(class_names), int(np.max(predictions, initial=-1)) + 1)
    names = np.array([_tsv_cell(n) for n in class_names] + [str(i) for i in range(len(class_names), count)],
                     dtype=object)
    rows = zip(names[labels], names[predictions], np.where(labels == predictions, "yes", "no"))
    body = "".join("%s\t%s\t%s\t%d\n" % (t, p, c, i) for i, (t, p, c) in enumerate(rows))
    return "\t".join(METADATA_COLUMNS) + "\n" + body


def _tsv_cell(text):
    return re.sub(r"[\t\r\n]", " ", text) or "?"


def sprite_sheet(thumbnails):
    """`(PNG bytes, [width, height] of one image)` of uint8 thumbnails `[N, h, w(, 3)]`.

    The images fill a grid of `ceil(sqrt(N))` columns, row by row; they are
    shrunk (area average) so that the sheet stays within
    `MAX_SPRITE_SIDE` pixels a side.
    """
    images = np.asarray(thumbnails)
    if images.ndim == 3:
        images = images[..., None]
    n, h, w = images.shape[:3]
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    scale = min(1.0, MAX_SPRITE_SIDE / (cols * w), MAX_SPRITE_SIDE / (rows * h))
    if scale < 1.0:
        size = (max(1, int(h * scale)), max(1, int(w * scale)))
        images = tf.image.resize(images, size, method="area").numpy().round().astype(np.uint8)
        h, w = size
    sheet = np.zeros((rows * cols, h, w, images.shape[3]), np.uint8)
    sheet[:n] = images
    sheet = sheet.reshape(rows, cols, h, w, -1).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, -1)
    return png.encode(sheet), [w, h]


def _file_stem(index, layer):
    return "%02d_%s" % (index, re.sub(r"[^A-Za-z0-9._-]", "_", layer))


class ProjectorWriter:
    """Writes one run's Projector files (see the module docstring); not thread-safe.

    The config lists every embedding written by this writer, plus, when
    `resume` is true, those of the config already in the run (a resumed
    fit); a writer that starts afresh replaces that config.

    Args:
      log_dir: The run directory (local path or `tf.io.gfile` URL).
      class_names: Class names, indexed by label.
      resume: Whether to keep the embeddings of a config already there.
    """

    def __init__(self, log_dir, class_names, resume):
        self.log_dir = log_dir
        self.dir = assets_dir(log_dir)
        self.class_names = list(class_names)
        self._resume = resume
        self._embeddings = None  # {name: EmbeddingInfo}, read or started at the first write.
        self._sprite_dim = None

    def write_sprite(self, thumbnails):
        """Writes the sprite sheet of uint8 thumbnails `[N, h, w(, 3)]`; later epochs use it."""
        sheet, self._sprite_dim = sprite_sheet(thumbnails)
        tf.io.gfile.makedirs(self.dir)
        _write_file(self._path(SPRITE_NAME), sheet)

    def write_epoch(self, step, layers, activations, labels, predictions):
        """Writes one epoch's tensors and metadata, then the config.

        Args:
          step: Epochs trained (0 = before training).
          layers: Names of the recorded layers, in order.
          activations: `{layer: float32 [N, D]}`.
          labels: True classes, int `[N]`.
          predictions: Predicted classes, int `[N]`.
        """
        embeddings = self._existing()
        tf.io.gfile.makedirs(self.dir)
        metadata_name = "metadata_epoch_%03d.tsv" % step
        _write_file(self._path(metadata_name), metadata_tsv(labels, predictions, self.class_names).encode("utf-8"))
        for index, layer in enumerate(layers):
            values = activations[layer]
            data, extension = encode_tensor(values)
            tensor_name = "%s_epoch_%03d%s" % (_file_stem(index, layer), step, extension)
            _write_file(self._path(tensor_name), data)
            info = projector.EmbeddingInfo(
                tensor_name=embedding_name(layer, step), tensor_path=tensor_name,
                metadata_path=metadata_name, tensor_shape=list(values.shape),
            )
            if self._sprite_dim is not None:
                info.sprite.image_path = SPRITE_NAME
                info.sprite.single_image_dim.extend(self._sprite_dim)
            embeddings[info.tensor_name] = info
        self._write_config(embeddings)

    def _existing(self):
        if self._embeddings is None:
            self._embeddings = {}
            path = self._path(CONFIG_NAME)
            if self._resume and tf.io.gfile.exists(path):
                config = text_format.Parse(_read_file(path), projector.ProjectorConfig())
                self._embeddings = {e.tensor_name: e for e in config.embeddings}
        return self._embeddings

    def _write_config(self, embeddings):
        config = projector.ProjectorConfig()
        config.embeddings.extend(embeddings[name] for name in sorted(embeddings))
        path = self._path(CONFIG_NAME)
        _write_file(path + ".tmp", text_format.MessageToString(config).encode("utf-8"))
        tf.io.gfile.rename(path + ".tmp", path, overwrite=True)

    def _path(self, name):
        return "%s/%s" % (self.dir, name)


def _write_file(path, data):
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(data)


def _read_file(path):
    with tf.io.gfile.GFile(path, "r") as f:
        return f.read()
