"""Quickstart: record the hidden layers of a small MLP on scikit-learn's digits.

Into one run directory, with the nnviz callbacks: the hidden activity
of the probe set every epoch (`ActivationLogger`: the Across layers, Across
epochs, Neurons and Compare views, and per-class precision/recall/F1 in the
Scalars tab), the layers' correlations (`CorrelationLogger`: Correlations),
the statistics of the gradients the optimizer applies (`GradientStatsLogger`:
Gradients), the hidden layers for TensorBoard's Projector tab
(`EmbeddingLogger`), the saliency of 8 probe images for its Images tab
(`SaliencyLogger`); `nnviz_tb.TensorBoard` adds the loss curves at the same
steps. Runs in seconds on a CPU and
needs no download:

    python examples/quickstart.py
    tensorboard --logdir logs        # then open the nnviz tab
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
    parser.add_argument("--logdir", default="logs/quickstart",
                        help="run directory to write the event files to")
    parser.add_argument("--epochs", type=int, default=20, help="epochs to train")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    x, y = datasets.load_digits_dataset()  # 1,797 images of 8x8 pixels, flattened.
    # Train on 1,300 digits; the other 497 are the probe, whose hidden
    # activity is recorded every epoch (and also the validation set).
    (x_train, y_train), probe = (x[:1300], y[:1300]), (x[1300:], y[1300:])
    model = keras.Sequential(
        [keras.Input((64,))]
        + [keras.layers.Dense(n, activation="relu", name="dense_%d" % n) for n in (64, 32, 16)]
        + [keras.layers.Dense(10, activation="softmax", name="output")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    callbacks = [
        nnviz_tb.ActivationLogger(args.logdir, probe=probe),
        nnviz_tb.CorrelationLogger(args.logdir, probe=probe),
        nnviz_tb.GradientStatsLogger(args.logdir, every_n_steps=4),  # 41 steps an epoch: 10 measured.
        nnviz_tb.EmbeddingLogger(args.logdir, probe=probe),  # TensorBoard's Projector tab.
        # TensorBoard's Images tab, and the selection panel of the nnviz tab: 8 probe images' saliency.
        nnviz_tb.SaliencyLogger(args.logdir, probe[0][:8], probe[1][:8],
                                methods=("gradient", "integrated_gradients")),
        nnviz_tb.TensorBoard(args.logdir),
    ]
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_data=probe,
              verbose=2, callbacks=callbacks)
    print("Wrote %s. View it with: tensorboard --logdir %s"
          % (args.logdir, os.path.dirname(args.logdir) or args.logdir))


if __name__ == "__main__":
    main()
