"""A CIFAR-10-style CNN on MNIST with GradientStatsLogger: where the gradients vanish.

The classic Keras CIFAR-10 architecture, (Conv32-Conv32-MaxPool-Dropout),
(Conv64-Conv64-MaxPool-Dropout), Dense(256)-Dropout-Dense(10), trained on the
first `--train-size` of the 10,000 MNIST test images (IDX files; `--data-dir`
defaults to $NNVIZ_TB_MNIST_DIR, else ../shared/data/mnist). Writes the
gradient statistics (nnviz tab, Gradients view; Scalars tab,
`gradients/<layer>/...`) and Keras' own scalars, then prints per layer the
zero-gradient fraction, dead units and gradient norm of the first and last
epoch.

    python examples/gradient_cnn.py
    tensorboard --logdir logs
"""

import argparse
import os

import _quiet_tf  # noqa: E402,F401  TensorFlow without its start-up notices.

import keras  # noqa: E402

import nnviz_tb  # noqa: E402
from nnviz_tb import datasets, reader  # noqa: E402


def cifar_cnn():
    conv = lambda filters, name: keras.layers.Conv2D(  # noqa: E731
        filters, 3, padding="same", activation="relu", name=name
    )
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        conv(32, "conv1a"), conv(32, "conv1b"), keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Dropout(0.25),
        conv(64, "conv2a"), conv(64, "conv2b"), keras.layers.MaxPooling2D(name="pool2"),
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu", name="dense"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])


def print_layers(records, epochs):
    """A table of the zero fraction, dead units and gradient norm of each layer at `epochs`."""
    print("%-8s" % "" + "".join("  %-30s" % ("epoch %d" % e) for e in epochs))
    print("%-8s" % "layer" + "  %8s %10s %10s" % ("zero", "dead units", "|g|") * len(epochs))
    for i, layer in enumerate(records[epochs[0]]["layers"]):
        cells = []
        for e in epochs:
            stats = records[e]["layer_stats"]
            dead = stats["dead_units"][i]
            cells.append("  %7.1f%% %10s %10.4f" % (
                100 * stats["zero_fraction"][i], "-" if dead is None else "%d/%d" % (dead, layer["units"]),
                stats["grad_norm"][i]))
        print("%-8s" % layer["name"] + "".join(cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder of the MNIST IDX files (t10k-*-ubyte); None: $NNVIZ_TB_MNIST_DIR, "
                             "else ../shared/data/mnist, else keras.datasets downloads MNIST")
    parser.add_argument("--logdir", default="logs/gradient_cnn",
                        help="run directory to write the event files to")
    parser.add_argument("--epochs", type=int, default=5, help="epochs to train")
    parser.add_argument("--train-size", type=int, default=8000,
                        help="MNIST test images to train on (the first ones)")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x, y), (x_val, y_val) = datasets.mnist_split(args.data_dir, args.train_size, 10000 - args.train_size)
    model = cifar_cnn()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [nnviz_tb.GradientStatsLogger(args.logdir), nnviz_tb.TensorBoard(args.logdir)]
    model.fit(x[..., None], y, epochs=args.epochs, batch_size=64, verbose=2,
              validation_data=(x_val[..., None], y_val), callbacks=callbacks)

    records = reader.read_gradient_stats(args.logdir)
    print_layers(records, [min(records), max(records)])
    print("Wrote %s. View it with: tensorboard --logdir %s"
          % (args.logdir, os.path.dirname(args.logdir) or args.logdir))


if __name__ == "__main__":
    main()
