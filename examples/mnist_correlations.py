"""Layer correlations of a 4-layer MLP with BatchNorm on MNIST, read from local IDX files.

Each hidden layer is Dense -> BatchNormalization -> ReLU (256, 128, 64, 32
units). Trains on 8,000 of the 10,000 MNIST test images and records, with
`nnviz_tb.CorrelationLogger`, how the 13 recorded layers correlate over the
other 2,000 (the probe) before training and after every epoch: linear CKA
and best-match |Pearson r| of every layer pair, feature and sample
correlation matrices of the ReLU layers, and each feature's variance over
300 shifted, rotated, noisy copies of the first probe digit.
`--data-dir` defaults to $NNVIZ_TB_MNIST_DIR, else ../shared/data/mnist.

    python examples/mnist_correlations.py --data-dir path/to/mnist
    tensorboard --logdir logs   # Scalars: correlation/mean_cka, correlation/mean_pearson
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import nnviz_tb  # noqa: E402
from nnviz_tb import datasets  # noqa: E402

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--logdir", default="logs/mnist_correlations")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=8000)
    parser.add_argument("--probe-size", type=int, default=2000)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x, y), (x_probe, y_probe) = datasets.mnist_split(args.data_dir, args.train_size, args.probe_size)
    x, x_probe = x.reshape(-1, 784), x_probe.reshape(-1, 784)
    callbacks = [
        nnviz_tb.CorrelationLogger(
            args.logdir,
            probe=(x_probe, y_probe),
            matrix_layers=["relu_%d" % i for i in range(1, len(WIDTHS) + 1)],
        ),
        keras.callbacks.TensorBoard(args.logdir),
    ]
    mlp().fit(x, y, epochs=args.epochs, batch_size=64, validation_data=(x_probe, y_probe),
              verbose=2, callbacks=callbacks)
    print("Wrote %s. View it with: tensorboard --logdir %s"
          % (args.logdir, os.path.dirname(args.logdir) or args.logdir))


if __name__ == "__main__":
    main()
