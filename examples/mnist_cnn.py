"""A small CNN on MNIST: (Conv-Conv-MaxPool) x 2, then Dense layers.

Trains on the first `--train-size` of the 10,000 MNIST test images and
records the last `--probe-size` (up to 10,000; beyond 2,000 the probe
overlaps the training images). Feature maps are recorded as one value per
channel (global average pooling). TensorBoard's Images tab gets the
saliency and Grad-CAM of 16 probe images and the feature maps of 4. `--data-dir` defaults to
$NNVIZ_TB_MNIST_DIR, else ../shared/data/mnist.

    python examples/mnist_cnn.py --probe-size 5000
    tensorboard --logdir logs
"""

import argparse
import os

import _quiet_tf  # noqa: E402,F401  TensorFlow without its start-up notices.

import keras  # noqa: E402

import nnviz_tb  # noqa: E402
from nnviz_tb import datasets  # noqa: E402


def conv(filters, name):
    return keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=name)


def cnn():
    """The model (also used by benchmarks/activation_logger_memory.py)."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            conv(16, "conv1a"), conv(16, "conv1b"), keras.layers.MaxPooling2D(name="pool1"),
            conv(32, "conv2a"), conv(32, "conv2b"), keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu", name="dense"),
            keras.layers.Dense(10, activation="softmax", name="output"),
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder of the MNIST IDX files (t10k-*-ubyte); None: $NNVIZ_TB_MNIST_DIR, "
                             "else ../shared/data/mnist, else keras.datasets downloads MNIST")
    parser.add_argument("--logdir", default="logs/mnist_cnn",
                        help="run directory to write the event files to")
    parser.add_argument("--epochs", type=int, default=5, help="epochs to train")
    parser.add_argument("--train-size", type=int, default=8000,
                        help="MNIST test images to train on (the first ones)")
    parser.add_argument("--probe-size", type=int, default=2000,
                        help="MNIST test images to record as the probe (the last ones)")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x, y), (x_probe, y_probe) = datasets.mnist_split(
        args.data_dir, args.train_size, args.probe_size
    )
    x, x_probe = x[..., None], x_probe[..., None]  # Channels last: [N, 28, 28, 1].
    model = cnn()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    callbacks = [
        nnviz_tb.ActivationLogger(args.logdir, probe=(x_probe, y_probe)),
        # Images tab (and the nnviz tab's selection panel): 16 probe images' saliency and Grad-CAM.
        nnviz_tb.SaliencyLogger(args.logdir, x_probe[:16], y_probe[:16],
                                methods=("gradient", "integrated_gradients", "gradcam")),
        nnviz_tb.FeatureMapLogger(args.logdir, images=x_probe[:4]),  # Images tab: feature maps, filters.
        nnviz_tb.TensorBoard(args.logdir),
    ]
    model.fit(x, y, epochs=args.epochs, batch_size=64, verbose=2, callbacks=callbacks)
    print("Wrote %s. View it with: tensorboard --logdir %s"
          % (args.logdir, os.path.dirname(args.logdir) or args.logdir))


if __name__ == "__main__":
    main()
