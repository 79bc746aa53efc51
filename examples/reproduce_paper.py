"""Reproduces the headline findings of Rauber et al. (IEEE TVCG 2017) on real MNIST.

Trains the paper's MLP (4 hidden Dense(1000, ReLU) layers with dropout, SGD
with momentum 0.9) and a CNN whose two dense layers are visualised, on 8,000
of the 10,000 MNIST test images, while `ActivationLogger` records the other
2,000 as the probe. Then, from the recorded event files (the same data the
nnviz tab shows), prints the neighborhood hit (k = 6) of a projection of each
hidden layer before training (epoch 0: the very network that is then
trained) and after training, and the digit pairs that stay mixed.

    python examples/reproduce_paper.py [--epochs 20] [--method tsne]
    tensorboard --logdir logs/paper      # the same runs in the nnviz tab
"""

import argparse
import collections
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

import nnviz_tb  # noqa: E402
from nnviz_tb import datasets, reader  # noqa: E402
from nnviz_tb.analysis import metrics, projection  # noqa: E402


def mlp():
    layers = [keras.Input((784,))]
    for i in range(1, 5):
        layers += [keras.layers.Dense(1000, activation="relu", name="hidden%d" % i),
                   keras.layers.Dropout(0.2)]
    return keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax", name="output")])


def cnn():
    conv = lambda n, name: keras.layers.Conv2D(n, 3, activation="relu", name=name)  # noqa: E731
    return keras.Sequential([
        keras.Input((784,)), keras.layers.Reshape((28, 28, 1)),
        conv(32, "conv1"), keras.layers.MaxPooling2D(), conv(64, "conv2"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu", name="dense1"), keras.layers.Dropout(0.2),
        keras.layers.Dense(128, activation="relu", name="dense2"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])


MODELS = {"mlp": (mlp, ["hidden1", "hidden2", "hidden3", "hidden4"]), "cnn": (cnn, ["dense1", "dense2"])}


def mixed_pairs(points, labels, k=metrics.DEFAULT_K, top=5):
    """The digit pairs that most often share a 2-D neighbourhood: `[(a, b, fraction)]`."""
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    counts = collections.Counter()
    for i, neighbours in enumerate(idx[:, 1:]):
        for j in neighbours:
            if labels[j] != labels[i]:
                counts[tuple(sorted((int(labels[i]), int(labels[j]))))] += 1
    total = len(points) * k
    return [(a, b, n / total) for (a, b), n in counts.most_common(top)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--logdir", default="logs/paper")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--method", choices=projection.METHODS, default="tsne")
    args = parser.parse_args()
    (x, y), probe = datasets.mnist_split(args.data_dir, 8000, 2000)
    x, probe = x.reshape(len(x), -1), (probe[0].reshape(len(probe[0]), -1), probe[1])

    results = {}
    for name, (build, layers) in MODELS.items():
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        run_dir = os.path.join(args.logdir, name)
        logger = nnviz_tb.ActivationLogger(run_dir, probe=probe, every_n_epochs=max(1, args.epochs // 5))
        history = model.fit(x, y, epochs=args.epochs, batch_size=64, validation_data=probe, verbose=2,
                            callbacks=[logger])
        run = reader.read_run(run_dir)
        rows = []
        for layer in layers:
            row = {"layer": layer}
            for when, epoch in (("before", 0), ("after", args.epochs)):
                points = projection.project(run.activations[layer][epoch], args.method)
                row[when] = metrics.neighborhood_hit(points, run.labels)
            rows.append(row)
        results[name] = {"accuracy": history.history["val_accuracy"][-1], "layers": rows,
                         "mixed_pairs": mixed_pairs(points, run.labels)}

    print("\n| model | layer | NH before training | NH after %d epochs |" % args.epochs)
    print("|---|---|---|---|")
    for name, result in results.items():
        for row in result["layers"]:
            print("| %s | %s | %.3f | %.3f |" % (name, row["layer"], row["before"], row["after"]))
    for name, result in results.items():
        pairs = ", ".join("%d-%d (%.1f%%)" % (a, b, 100 * f) for a, b, f in result["mixed_pairs"])
        print("%s: probe accuracy %.3f; most mixed digit pairs in its last hidden layer: %s"
              % (name, result["accuracy"], pairs))
    with open(os.path.join(args.logdir, "paper_results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
