"""An MLP (784-256-128-64-32-10) on MNIST, read from local IDX files.

Trains on 8,000 of the 10,000 MNIST test images and records the other
2,000 as the probe. `--data-dir` defaults to $NNVIZ_TB_MNIST_DIR, else
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
    model = keras.Sequential(
        [keras.Input((784,))]
        + [keras.layers.Dense(n, activation="relu", name="dense_%d" % n) for n in (256, 128, 64, 32)]
        + [keras.layers.Dense(10, activation="softmax", name="output")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    callbacks = [
        nnviz_tb.ActivationLogger(args.logdir, probe=(x_probe, y_probe)),
        nnviz_tb.TensorBoard(args.logdir),
    ]
    model.fit(x, y, epochs=args.epochs, batch_size=64, validation_data=(x_probe, y_probe),
              verbose=2, callbacks=callbacks)
    print("Wrote %s. View it with: tensorboard --logdir %s"
          % (args.logdir, os.path.dirname(args.logdir) or args.logdir))


if __name__ == "__main__":
    main()
