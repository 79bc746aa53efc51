"""Where one CorrelationLogger record's time goes on ResNet50 (keras.applications, weights=None, 32 x 32).

2,000 probe points (random images, 10 classes) and 300 augmentations; the
default layers and `layers="all"` (every layer's output). For each: the
forward passes (training thread), then the writer thread's work by part
(CPU seconds of this thread, BLAS on one thread as the logger runs it):
layer statistics, linear CKA, best-match |r|, the feature and sample
matrices, the augmentation variance, and the whole record. `--exact` also
times the cross-layer scores over every point and feature (the old code's
computation; about a minute for all layers). For scale, the wall time of
one training epoch of 2,000 images (batch 64) is printed too.

    python benchmarks/correlation_logger_record_cost.py [--probe-size 2000] [--exact]
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nnviz_tb  # noqa: E402
from _report import at_most, report, row  # noqa: E402
from nnviz_tb import correlation_summaries  # noqa: E402
from nnviz_tb.analysis import correlation  # noqa: E402

QUICK_ARGS = ["--probe-size", "500"]
RECORD_LIMIT = 0.1  # A small fraction of an epoch: the goal of the writer's work on the default layers.


def resnet50():
    keras.utils.set_random_seed(0)
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def timed(function, *args):
    """`(result, CPU seconds of this thread)`."""
    start = time.thread_time()
    result = function(*args)
    return result, time.thread_time() - start


def record_parts(logger):
    """Seconds of one record: forward passes (wall), then each part of the computation (CPU)."""
    parts = {}
    for title in ("forward passes, first (wall)", "forward passes, again (wall)"):
        start = time.perf_counter()
        outputs = logger._forward()
        parts[title] = time.perf_counter() - start
    summaries, num = logger._summaries, len(logger.probe_labels)
    activations = {name: v[:num] for name, v in outputs.items()}
    augmented = {name: v[num:] for name, v in outputs.items()}
    with correlation_summaries._thread_pools().limit(limits=1, user_api="blas"):
        layers, parts["layer statistics"] = timed(
            lambda: [correlation.LayerStatistics(activations[n]) for n in summaries.layers])
        for measure in summaries.measures:
            _, parts[measure] = timed(correlation.cross_layer_scores, layers, [measure], summaries.plan)
        _, parts["feature + sample matrices"] = timed(lambda: [
            (correlation.feature_correlations(layer, summaries.max_features),
             correlation.sample_correlations(layer, summaries.sample_indices)) for layer in layers])
        _, parts["augmentation variance"] = timed(lambda: [
            correlation.augmentation_variance(augmented[n], layer) for n, layer in zip(summaries.layers, layers)])
        with tf.summary.record_if(False):
            _, parts["whole record (writer thread)"] = timed(summaries.write, 1, activations, augmented)
    return parts, layers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probe-size", type=int, default=2000)
    parser.add_argument("--exact", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(args.probe_size, 32, 32, 3)).astype("float32")
    labels = np.arange(args.probe_size) % 10
    model = resnet50()
    start = time.perf_counter()
    model.fit(x, labels, epochs=1, batch_size=64, verbose=0)
    print("one training epoch of %d images: %.1f s (wall, includes tracing)" % (len(x), time.perf_counter() - start),
          flush=True)
    start = time.perf_counter()
    model.fit(x, labels, epochs=1, batch_size=64, verbose=0)
    epoch_s = time.perf_counter() - start
    print("one training epoch of %d images: %.1f s (wall)" % (len(x), epoch_s), flush=True)
    rows = [row("ResNet50, one training epoch of %d images" % len(x), epoch_s, "s")]
    all_layers = [layer.name for layer in model.layers[1:]]
    for title, layers in (("default layers", None), ('layers="all" (%d)' % len(all_layers), all_layers)):
        with tempfile.TemporaryDirectory() as log_dir:
            logger = nnviz_tb.CorrelationLogger(log_dir, probe=(x, labels), layers=layers)
            logger.set_model(model)
            logger.on_train_begin()
            logger._writer.close()
            parts, stats = record_parts(logger)
        plan = logger._summaries.plan
        dims = logger._summaries.sampled_dims
        print("\n%s: %d layers, %d features in all; scores over %s points, CKA from %s, best-match |r| over %s"
              % (title, len(dims), sum(dims), "all" if plan.points is None else len(plan.points),
                 "N x N Gram matrices" if plan.grams else "feature products",
                 "all features" if plan.pearson_features is None else "%d features a layer" % plan.pearson_features))
        for name, seconds in parts.items():
            print("  %-32s %7.2f s" % (name, seconds), flush=True)
        forward_s, writer_s = parts["forward passes, again (wall)"], parts["whole record (writer thread)"]
        name = "ResNet50, %s, one record's " % title
        rows += [row(name + "writer CPU", writer_s, "s"),
                 row(name + "forward passes / epoch", forward_s / epoch_s, "x"),
                 at_most(name + "writer CPU / epoch", writer_s / epoch_s, "x", None if layers else RECORD_LIMIT)]
        if args.exact:
            with correlation_summaries._thread_pools().limit(limits=1, user_api="blas"):
                _, seconds = timed(correlation.cross_layer_scores, stats, correlation.MEASURES)
            print("  %-32s %7.2f s" % ("exact scores (old computation)", seconds))
    report(rows)


if __name__ == "__main__":
    main()
