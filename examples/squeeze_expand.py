"""The squeeze-expand ablation: a 512-32-512 bottleneck MLP against a 512-512-512 one on MNIST.

Trains both MLPs (784-512-w-512-10, ReLU, Adam; w = 32 or 512) on the first
`--train-size` (8,000) MNIST test images (IDX files; `--data-dir` defaults to
$NNVIZ_TB_MNIST_DIR, else ../shared/data/mnist), with GradientStatsLogger
writing to `<logdir>/bottleneck` and `<logdir>/wide`. Per epoch it also
writes the singular-value spectrum of each Dense kernel (Histograms tab,
`spectrum/<layer>`) and its effective rank (Scalars tab,
`spectrum/<layer>/effective_rank`: exp of the entropy of the normalised
singular values, Roy & Vetterli 2007), then prints both models side by side.

    python examples/squeeze_expand.py
    tensorboard --logdir logs/squeeze_expand
"""

import argparse
import os

import _quiet_tf  # noqa: E402,F401  TensorFlow without its start-up notices.

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nnviz_tb  # noqa: E402
from nnviz_tb import datasets, reader  # noqa: E402

MODELS = {"bottleneck": 32, "wide": 512}


def mlp(width):
    return keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(512, activation="relu", name="hidden1"),
        keras.layers.Dense(width, activation="relu", name="hidden2"),
        keras.layers.Dense(512, activation="relu", name="hidden3"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])


def effective_rank(singular_values):
    p = singular_values / singular_values.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


class SpectrumLogger(keras.callbacks.Callback):
    """Writes the singular values of each Dense kernel per epoch; keeps the last ones in `spectra`."""

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = log_dir
        self.spectra = {}

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        with self._writer.as_default():
            for layer in self.model.layers:
                s = np.linalg.svd(layer.kernel.numpy(), compute_uv=False)
                self.spectra[layer.name] = s
                tf.summary.histogram("spectrum/%s" % layer.name, s, step=epoch + 1)
                tf.summary.scalar("spectrum/%s/effective_rank" % layer.name, effective_rank(s), step=epoch + 1)

    def on_train_end(self, logs=None):
        self._writer.close()


def cell(value, pattern="%.4f", scale=1):
    """`value` as text, "-" if it is undefined (e.g. no weight change in a one-step epoch)."""
    return "-" if value is None else pattern % (scale * value)


def train(name, width, data, args):
    keras.utils.set_random_seed(0)
    (x, y), validation = data
    model = mlp(width)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    log_dir = os.path.join(args.logdir, name)
    spectrum = SpectrumLogger(log_dir)
    history = model.fit(x, y, epochs=args.epochs, batch_size=64, verbose=0, validation_data=validation,
                        callbacks=[nnviz_tb.GradientStatsLogger(log_dir), spectrum])
    records = reader.read_gradient_stats(log_dir)
    return records[max(records)], spectrum.spectra, history.history["val_accuracy"][-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder of the MNIST IDX files (t10k-*-ubyte); None: $NNVIZ_TB_MNIST_DIR, "
                             "else ../shared/data/mnist, else keras.datasets downloads MNIST")
    parser.add_argument("--logdir", default="logs/squeeze_expand",
                        help="folder of the two runs, bottleneck/ and wide/")
    parser.add_argument("--epochs", type=int, default=10, help="epochs to train")
    parser.add_argument("--train-size", type=int, default=8000,
                        help="MNIST test images to train on (the first ones)")
    args = parser.parse_args()

    (x, y), (x_val, y_val) = datasets.mnist_split(args.data_dir, args.train_size, 2000)
    data = (x.reshape(-1, 784), y), (x_val.reshape(-1, 784), y_val)
    results = {name: train(name, width, data, args) for name, width in MODELS.items()}

    print("epoch %d; validation accuracy: %s" % (args.epochs, ", ".join(
        "%s %.3f" % (name, accuracy) for name, (_, _, accuracy) in results.items())))
    columns = ("model", "layer", "kernel", "eff. rank", "top s.v.", "zero %", "retained %",
               "dead units", "|g|", "|dw|")
    print("%-11s %-8s %-10s" % columns[:3] + "".join("%11s" % c for c in columns[3:]))
    for name, (record, spectra, _) in results.items():
        stats = record["layer_stats"]
        for i, layer in enumerate(record["layers"]):
            s = spectra[layer["name"]]
            kernel = "x".join(str(d) for d in record["variables"][layer["variables"][0]]["shape"])
            dead = stats["dead_units"][i]
            print("%-11s %-8s %-10s" % (name, layer["name"], kernel) + "".join("%11s" % c for c in (
                "%.1f" % effective_rank(s), "%.2f" % s[0], cell(stats["zero_fraction"][i], "%.2f", 100),
                cell(stats["retained_fraction"][i], "%.2f", 100),
                "-" if dead is None else "%d/%d" % (dead, layer["units"]),
                cell(stats["grad_norm"][i]), cell(stats["weight_change"][i]))))
    print("View it with: tensorboard --logdir %s" % args.logdir)


if __name__ == "__main__":
    main()
