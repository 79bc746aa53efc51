"""An MLP (784-256-128-64-32-10) on MNIST, read from local IDX files.

Trains on 7,000 of the 10,000 MNIST test images, validates on 1,000 and
records the other 2,000 as the probe (nnviz tab, and TensorBoard's
Projector tab for the last two hidden layers). `--data-dir` defaults to $NNVIZ_TB_MNIST_DIR, else
../shared/data/mnist (else keras.datasets downloads MNIST).

    python examples/mnist_mlp.py --data-dir path/to/mnist
    tensorboard --logdir logs
"""

import argparse
import os

import _quiet_tf  # noqa: E402,F401  TensorFlow without its start-up notices.

import keras  # noqa: E402

import nnviz_tb  # noqa: E402
from nnviz_tb import datasets  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder of the MNIST IDX files (t10k-*-ubyte); None: $NNVIZ_TB_MNIST_DIR, "
                             "else ../shared/data/mnist, else keras.datasets downloads MNIST")
    parser.add_argument("--logdir", default="logs/mnist_mlp",
                        help="run directory to write the event files to")
    parser.add_argument("--epochs", type=int, default=10, help="epochs to train")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x, y), (x_probe, y_probe) = datasets.mnist_split(args.data_dir, 8000, 2000)
    x, x_probe = x.reshape(-1, 784), x_probe.reshape(-1, 784)  # Thumbnails still work.
    (x, y), (x_val, y_val) = (x[:7000], y[:7000]), (x[7000:], y[7000:])  # 1,000 held out for validation.
    model = keras.Sequential(
        [keras.Input((784,))]
        + [keras.layers.Dense(n, activation="relu", name="dense_%d" % n) for n in (256, 128, 64, 32)]
        + [keras.layers.Dense(10, activation="softmax", name="output")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    callbacks = [
        nnviz_tb.ActivationLogger(args.logdir, probe=(x_probe, y_probe)),
        # TensorBoard's Projector tab: "<layer> @ epoch NNN" of the last two hidden layers.
        nnviz_tb.EmbeddingLogger(args.logdir, probe=(x_probe, y_probe), layers=["dense_64", "dense_32"]),
        # Scalars tab and the nnviz confusion view: per-class metrics of the validation data.
        nnviz_tb.ConfusionMatrixLogger(args.logdir, (x_val, y_val)),
        nnviz_tb.TensorBoard(args.logdir),
    ]
    model.fit(x, y, epochs=args.epochs, batch_size=64, validation_data=(x_val, y_val),
              verbose=2, callbacks=callbacks)
    print("Wrote %s. View it with: tensorboard --logdir %s"
          % (args.logdir, os.path.dirname(args.logdir) or args.logdir))


if __name__ == "__main__":
    main()
