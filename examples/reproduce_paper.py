"""Reproduces the headline findings of Rauber et al. (IEEE TVCG 2017) on real MNIST.

Trains the paper's MLP (4 hidden Dense(1000, ReLU) layers with dropout, SGD
with momentum 0.9) and a CNN whose two dense layers are visualised, on 8,000
of the 10,000 MNIST test images, while `ActivationLogger` records the other
2,000 as the probe. Then, from the recorded event files (the same data the
nnviz tab shows), prints the neighborhood hit (k = 6) of a projection of each
hidden layer before training (epoch 0: the very network that is then
trained) and after training, and the digit pairs that stay mixed.

    python examples/reproduce_paper.py [--epochs 20]
    python examples/reproduce_paper.py --reuse   # analyse the runs already in --logdir
    tensorboard --logdir logs/paper      # the same runs in the nnviz tab

NH is given for a t-SNE (perplexity 30, as in the paper) and a PCA projection
(`--methods tsne,pca`).
"""

import argparse
import collections
import json
import os

import _quiet_tf  # noqa: E402,F401  TensorFlow without its start-up notices.

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


METHOD_NAMES = {"tsne": "t-SNE", "pca": "PCA"}
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


def train(name, probe, x, y, args):
    """Trains model `name` with an `ActivationLogger`; returns its probe accuracy."""
    build, _ = MODELS[name]
    keras.utils.set_random_seed(0)
    model = build()
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    logger = nnviz_tb.ActivationLogger(os.path.join(args.logdir, name), probe=probe,
                                       every_n_epochs=max(1, args.epochs // 5))
    history = model.fit(x, y, epochs=args.epochs, batch_size=64, validation_data=probe, verbose=2,
                        callbacks=[logger])
    return history.history["val_accuracy"][-1]


def analyse(run_dir, layers, methods):
    """NH of each layer before training and at the last recorded epoch, by method, and the
    digit pairs most mixed in the last layer's projection by the first method, all from the
    event files."""
    run = reader.read_run(run_dir)
    last = max(run.activations[layers[0]])
    rows = []
    for layer in layers:
        row = {"layer": layer}
        for method in methods:
            for when, epoch in (("before", 0), ("after", last)):
                points = projection.project(run.activations[layer][epoch], method)
                row["%s_%s" % (method, when)] = metrics.neighborhood_hit(points, run.labels)
                if (method, when, layer) == (methods[0], "after", layers[-1]):
                    pairs = mixed_pairs(points, run.labels)
        rows.append(row)
    return {"epochs": last, "layers": rows, "mixed_pairs": pairs}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", default=None,
                        help="folder of the MNIST IDX files (t10k-*-ubyte); None: $NNVIZ_TB_MNIST_DIR, "
                             "else ../shared/data/mnist, else keras.datasets downloads MNIST")
    parser.add_argument("--logdir", default="logs/paper", help="folder of the two runs, mlp/ and cnn/")
    parser.add_argument("--epochs", type=int, default=20, help="epochs to train")
    parser.add_argument("--methods", default="tsne,pca",
                        help="comma-separated projections to compute NH of: tsne, pca")
    parser.add_argument("--reuse", action="store_true", help="analyse the runs already in --logdir")
    args = parser.parse_args()
    methods = args.methods.split(",")
    if not methods or not set(methods) <= set(METHOD_NAMES):
        parser.error("--methods must list some of %s" % ", ".join(METHOD_NAMES))
    if not args.reuse:
        (x, y), probe = datasets.mnist_split(args.data_dir, 8000, 2000)
        x, probe = x.reshape(len(x), -1), (probe[0].reshape(len(probe[0]), -1), probe[1])
        for name in MODELS:
            print("%s: probe accuracy %.3f" % (name, train(name, probe, x, y, args)))
    results = {
        name: analyse(os.path.join(args.logdir, name), layers, methods) for name, (_, layers) in MODELS.items()
    }
    columns = ["%s_%s" % (m, when) for m in methods for when in ("before", "after")]
    print("\n| model | layer | " + " | ".join(
        "%s NH %s" % (METHOD_NAMES[m], when) for m in methods for when in ("before", "after")) + " |")
    print("|---|---|" + "---|" * len(columns))
    for name, result in results.items():
        for row in result["layers"]:
            print("| %s | %s | " % (name, row["layer"]) + " | ".join("%.3f" % row[c] for c in columns) + " |")
    for name, result in results.items():
        pairs = ", ".join("%d-%d (%.1f%%)" % (a, b, 100 * f) for a, b, f in result["mixed_pairs"])
        print("%s, epoch %d: most mixed digit pairs in its last hidden layer: %s" % (name, result["epochs"], pairs))
    with open(os.path.join(args.logdir, "paper_results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
