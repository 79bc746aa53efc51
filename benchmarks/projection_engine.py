"""The t-SNE sequence engine against independent scikit-learn t-SNE runs (issue 12).

An MNIST MLP 784-256-128-64-32-10 (relu, adam, batch 64) is trained on the
first 5,000 MNIST test images; the last `--points` are the probe. The
activations of all 5 Dense layers (4 hidden + the softmax output) are taken
in-process at epochs 0 (before training) .. `--epochs`. Frames: every epoch
of the last hidden layer, and every layer at the last epoch.

- Baseline: scikit-learn `TSNE(perplexity=30, init="pca", random_state=0)`
  on each frame independently, `canonical`, then Procrustes-aligned to the
  previous frame of its sequence.
- Engine: `sequence.tsne_sequence` on the same frames; its time counts every
  ancestor frame the chain needs (all epochs of every layer).
- Joint PCA: `joint_pca.joint_pca` on the epoch sequence.

Prints a table and ends with the `BENCHMARK_RESULT` line.

    python benchmarks/projection_engine.py [--points 5000] [--epochs 10] [--quick]
"""

import argparse
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks._report import report, row  # noqa: E402
from nnviz_tb.analysis import coherence, joint_pca, projection, sequence  # noqa: E402
from nnviz_tb.analysis.metrics import neighborhood_hit  # noqa: E402
from nnviz_tb.datasets import mnist_split  # noqa: E402

WIDTHS = (256, 128, 64, 32)


def activations(points, epochs, data_dir=None):
    """`({(layer, epoch): [N, D] float32}, labels)` of the MLP's 5 layers at epochs 0..`epochs`."""
    import keras

    (x_train, y_train), (x_probe, y_probe) = mnist_split(data_dir, num_train=5000, num_probe=points)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28))
    hidden = keras.layers.Flatten()(inputs)
    outputs = []
    for width in WIDTHS:
        hidden = keras.layers.Dense(width, activation="relu")(hidden)
        outputs.append(hidden)
    outputs.append(keras.layers.Dense(10, activation="softmax")(hidden))
    model = keras.Model(inputs, outputs[-1])
    model.compile("adam", "sparse_categorical_crossentropy")
    probe = keras.Model(inputs, outputs)
    frames = {}
    for epoch in range(epochs + 1):
        if epoch:
            model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
        for layer, values in enumerate(probe.predict(x_probe, batch_size=1000, verbose=0)):
            frames[(layer, epoch)] = np.asarray(values, np.float32)
    return frames, y_probe


def baseline(frames, keys):
    """`({key: layout}, seconds)`: scikit-learn t-SNE per frame, each aligned to the previous key's."""
    from sklearn.manifold import TSNE

    layouts, previous = {}, None
    start = time.perf_counter()
    for key in keys:
        points = TSNE(perplexity=30, init="pca", random_state=0).fit_transform(frames[key])
        points = projection.canonical(points)
        layouts[key] = points if previous is None else projection.align(points, previous)
        previous = layouts[key]
    return layouts, time.perf_counter() - start


def engine(frames, keys, layers, epochs):
    """`({key: layout}, seconds, [(full optimisation?, seconds) per computed frame])` of `tsne_sequence`."""
    times, original, original_root = [], sequence.tsne_frame, sequence._root
    full = threading.local()  # The engine runs frames on two threads.

    def timed(data, init=None, **kwargs):
        begin, full.value = time.perf_counter(), False
        points = original(data, init=init, **kwargs)
        times.append((full.value, time.perf_counter() - begin))
        return points

    def root(*args):  # Counts the full optimisations: root frames and refits.
        full.value = True
        return original_root(*args)

    sequence.tsne_frame, sequence._root = timed, root
    try:
        start = time.perf_counter()
        layouts = sequence.tsne_sequence(keys, frames.__getitem__, layers, lambda layer: epochs)
        total = time.perf_counter() - start
    finally:
        sequence.tsne_frame, sequence._root = original, original_root
    return layouts, total, times


def quality(frames, layouts, keys, labels):
    """Mean neighbourhood hit (k = 6) and mean distance Pearson over `keys`."""
    hits = [neighborhood_hit(layouts[k], labels) for k in keys]
    pearsons = [coherence.distance_pearson(frames[k], layouts[k]) for k in keys]
    return float(np.mean(hits)), float(np.mean(pearsons)), hits


def coherent(frames, layouts, keys):
    """Mean displacement and stab_pearson of the sequence `keys`."""
    data = [frames[k] for k in keys]
    points = [layouts[k] for k in keys]
    return coherence.mean_displacement(points), coherence.stab_pearson(data, points)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="1,000 points, 3 epochs.")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    if args.quick:
        args.points, args.epochs = 1000, 3
    frames, labels = activations(args.points, args.epochs, args.data_dir)
    layers, epochs = list(range(len(WIDTHS) + 1)), list(range(args.epochs + 1))
    last_hidden, last_epoch = len(WIDTHS) - 1, epochs[-1]
    epoch_keys = [(last_hidden, e) for e in epochs]
    layer_keys = [(layer, last_epoch) for layer in layers]
    keys = epoch_keys + [k for k in layer_keys if k not in epoch_keys]
    print("%d points, %d frames (epochs 0-%d of layer %d, layers 0-%d at epoch %d)"
          % (args.points, len(keys), last_epoch, last_hidden, layers[-1], last_epoch), flush=True)

    tsne, tsne_time, frame_times = engine(frames, keys, layers, epochs)
    print("engine: %.1f s for %d computed frames" % (tsne_time, len(frame_times)), flush=True)
    base, base_time = baseline(frames, keys)
    print("baseline: %.1f s for %d frames" % (base_time, len(keys)), flush=True)
    start = time.perf_counter()
    joint_list = joint_pca.joint_pca([lambda k=k: frames[k] for k in epoch_keys])
    joint_time = time.perf_counter() - start
    joint = dict(zip(epoch_keys, joint_list))

    results = {}
    for name, layouts in (("engine", tsne), ("baseline", base), ("joint PCA", joint)):
        scope = keys if name != "joint PCA" else epoch_keys
        nh, dp, hits = quality(frames, layouts, scope, labels)
        displacement, stab = coherent(frames, layouts, epoch_keys)
        results[name] = dict(nh=nh, dp=dp, displacement=displacement, stab=stab)
        print("%-10s NH per frame: %s" % (name, " ".join("%.3f" % h for h in hits)))
    roots = [t for is_root, t in frame_times if is_root]
    warms = [t for is_root, t in frame_times if not is_root]
    print()
    print("%-10s %9s %8s %8s %13s %8s" % ("", "time (s)", "NH", "dist r", "displacement", "stab r"))
    for name, seconds in (("engine", tsne_time), ("baseline", base_time), ("joint PCA", joint_time)):
        r = results[name]
        print("%-10s %9.1f %8.4f %8.4f %13.4f %8.4f" % (name, seconds, r["nh"], r["dp"], r["displacement"], r["stab"]))
    print("engine frames: %d root/refit (%.2f s mean), %d warm (%.2f s mean)"
          % (len(roots), np.mean(roots) if roots else 0, len(warms), np.mean(warms) if warms else 0))
    e, b, j = results["engine"], results["baseline"], results["joint PCA"]
    speedup = base_time / tsne_time
    disp_ratio = b["displacement"] / max(e["displacement"], 1e-12)
    per_frame = (base_time / len(keys)) / (tsne_time / len(frame_times))
    print("speed-up %.1fx (%.1fx per computed frame), displacement %.1fx smaller" % (speedup, per_frame, disp_ratio))
    report([
        row("t-SNE sequence engine, x faster than sklearn per frame", speedup, "x", ">= 10", speedup >= 10),
        row("t-SNE sequence engine, x faster per computed frame", per_frame, "x"),
        row("engine NH minus baseline NH", e["nh"] - b["nh"], "", ">= -0.01", e["nh"] >= b["nh"] - 0.01),
        row("engine distance Pearson minus baseline's", e["dp"] - b["dp"], "", ">= 0", e["dp"] >= b["dp"]),
        row("baseline displacement / engine displacement", disp_ratio, "x", ">= 3", disp_ratio >= 3),
        row("engine stab_pearson (epochs)", e["stab"], "", ">= 0.85", e["stab"] >= 0.85),
        row("baseline stab_pearson (epochs)", b["stab"], ""),
        row("joint PCA stab_pearson (epochs)", j["stab"], ""),
        row("joint PCA displacement (epochs)", j["displacement"], ""),
        row("engine root/refit frame time", np.mean(roots) if roots else 0.0, "s"),
        row("engine warm frame time", np.mean(warms) if warms else 0.0, "s"),
        row("engine NH", e["nh"], ""),
        row("baseline NH", b["nh"], ""),
    ])


if __name__ == "__main__":
    main()
