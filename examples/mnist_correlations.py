"""Layer correlations of a 4-layer MLP with BatchNorm on MNIST, read from local IDX files.

Each hidden layer is Dense -> BatchNormalization -> ReLU (256, 128, 64, 32
units). Trains on 8,000 of the 10,000 MNIST test images and records, with
`nnviz_tb.CorrelationLogger`, how the 13 recorded layers correlate over the
other 2,000 (the probe) before training and after every epoch: linear CKA
and best-match |Pearson r| of every layer pair, feature and sample
correlation matrices of the ReLU layers, and each feature's variance over
300 shifted, rotated, noisy copies of the first probe digit.
At the end it reads the run back (`nnviz_tb.reader.read_correlations`) and
prints, before and after training, the numbers the README quotes.
`--data-dir` defaults to $NNVIZ_TB_MNIST_DIR, else ../shared/data/mnist.

    python examples/mnist_correlations.py --data-dir path/to/mnist
    tensorboard --logdir logs   # Scalars: correlation/mean_cka, correlation/mean_pearson
"""

import argparse
import os

import _quiet_tf  # noqa: E402,F401  TensorFlow without its start-up notices.

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nnviz_tb  # noqa: E402
from nnviz_tb import datasets, reader  # noqa: E402
from nnviz_tb.analysis import correlation  # noqa: E402

WIDTHS = (256, 128, 64, 32)


def mlp():
    layers = [keras.Input((784,))]
    for i, width in enumerate(WIDTHS, start=1):
        layers += [
            keras.layers.Dense(width, name="dense_%d" % i),
            keras.layers.BatchNormalization(name="bn_%d" % i),
            keras.layers.ReLU(name="relu_%d" % i),
        ]
    model = keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax", name="output")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def report(log_dir, matrix_layer):
    """Prints, at the first and last epoch, the mean score of each measure over all layer
    pairs, the mean within- and between-class sample r of `matrix_layer`, and each layer's
    median variance ratio (augmentations / probe) over its features that vary."""
    run = reader.read_correlations(log_dir)
    for epoch in (min(run.scores), max(run.scores)):
        means = ", ".join("mean %s %.2f" % (m, correlation.mean_off_diagonal(s))
                          for m, s in run.scores[epoch].items())
        matrix = run.matrices[matrix_layer][epoch]
        r, labels = matrix["samples"].astype(float), matrix["sample_labels"]
        same = labels[:, None] == labels[None, :]
        within = np.nanmean(r[same & ~np.eye(len(r), dtype=bool)])
        print("epoch %d: %s; %s sample r within classes %.2f, between %.2f"
              % (epoch, means, matrix_layer, within, np.nanmean(r[~same])))
        ratios = ["%s %.3g" % (layer, np.median(v[0][v[1] > 0] / v[1][v[1] > 0]))
                  for layer, v in run.augmentation_variance[epoch].items() if (v[1] > 0).any()]
        print("  median variance ratio: " + ", ".join(ratios))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder of the MNIST IDX files (t10k-*-ubyte); None: $NNVIZ_TB_MNIST_DIR, "
                             "else ../shared/data/mnist, else keras.datasets downloads MNIST")
    parser.add_argument("--logdir", default="logs/mnist_correlations",
                        help="run directory to write the event files to")
    parser.add_argument("--epochs", type=int, default=10, help="epochs to train")
    parser.add_argument("--train-size", type=int, default=8000,
                        help="MNIST test images to train on (the first ones)")
    parser.add_argument("--probe-size", type=int, default=2000,
                        help="MNIST test images to record as the probe (the last ones)")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x, y), (x_probe, y_probe) = datasets.mnist_split(args.data_dir, args.train_size, args.probe_size)
    x, x_probe = x.reshape(-1, 784), x_probe.reshape(-1, 784)
    matrix_layers = ["relu_%d" % i for i in range(1, len(WIDTHS) + 1)]
    callbacks = [
        nnviz_tb.CorrelationLogger(args.logdir, probe=(x_probe, y_probe), layers="all",
                                   matrix_layers=matrix_layers),
        nnviz_tb.TensorBoard(args.logdir),
    ]
    mlp().fit(x, y, epochs=args.epochs, batch_size=64, validation_data=(x_probe, y_probe),
              verbose=2, callbacks=callbacks)
    report(args.logdir, matrix_layers[-1])
    print("Wrote %s. View it with: tensorboard --logdir %s"
          % (args.logdir, os.path.dirname(args.logdir) or args.logdir))


if __name__ == "__main__":
    main()
