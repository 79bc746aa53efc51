"""How long TensorBoard takes to load and serve large nnviz activations.

Writes one run of `--epochs` + 1 records of a `--points` x `--dim` layer (the
issue's 2,000 x 1,000 case: 4 MB of float16 per record) with the nnviz
writer, starts a real `tensorboard` (default fast loader), and prints: the
event file size, the time until every epoch is listed, and the time of the
first PCA request of one epoch (reading the blob through the data provider,
decoding, projecting) next to the in-process PCA of the same array, so the
difference is the cost of the read.

    python benchmarks/event_load_time.py [--points 2000] [--dim 1000] [--epochs 20]
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import numpy as np  # noqa: E402

from _report import report, row  # noqa: E402
from conftest import TensorBoardServer  # noqa: E402
from nnviz_tb.analysis import projection  # noqa: E402
from nnviz_tb.summary import NnvizWriter  # noqa: E402

QUICK_ARGS = ["--epochs", "4"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    labels = np.arange(args.points) % 10
    root = tempfile.mkdtemp(prefix="nnviz_load_")
    writer = NnvizWriter(os.path.join(root, "run"))
    writer.write_probe(0, {"num_points": args.points, "class_names": list("0123456789")}, labels, None)
    start = time.perf_counter()
    for epoch in range(args.epochs + 1):
        values = np.maximum(rng.normal(size=(args.points, args.dim)), 0).astype(np.float32)
        writer.write_epoch(epoch, {"wide": values}, labels, {"wide": "none"})
    writer.close()
    write_s = time.perf_counter() - start
    size = sum(os.path.getsize(os.path.join(root, "run", f)) for f in os.listdir(os.path.join(root, "run")))
    print("wrote %d records of %d x %d in %.2f s (%.0f ms each), event file %.1f MB"
          % (args.epochs + 1, args.points, args.dim, write_s, 1000 * write_s / (args.epochs + 1), size / 2**20))

    server = TensorBoardServer(root, tempfile.mkdtemp(prefix="nnviz_cache_"))
    try:
        start = time.perf_counter()
        while True:
            _, body, _ = server.get("/data/plugin/nnviz/runs")
            if json.loads(body).get("run", {}).get("epochs") == list(range(args.epochs + 1)):
                break
            time.sleep(0.1)
        listed_s = time.perf_counter() - start
        print("tensorboard listed all %d epochs %.2f s after it answered" % (args.epochs + 1, listed_s))
        start = time.perf_counter()
        status, _, _ = server.get("/data/plugin/nnviz/projection?run=run&layer=wide&epoch=%d&method=pca" % args.epochs)
        request_s = time.perf_counter() - start
        start = time.perf_counter()
        projection.project(values, "pca")
        pca_s = time.perf_counter() - start
        print("first PCA request (read + decode + PCA + JSON): %.0f ms (status %d); PCA alone %.0f ms;"
              " read and serve ~%.0f ms" % (1000 * request_s, status, 1000 * pca_s, 1000 * (request_s - pca_s)))
    finally:
        server.stop()
    case = "%d records of %d x %d" % (args.epochs + 1, args.points, args.dim)
    report([row(case + ", write, per record", 1000 * write_s / (args.epochs + 1), "ms"),
            row(case + ", event file", size / 2**20, "MB"),
            row(case + ", TensorBoard lists every epoch", listed_s, "s"),
            row(case + ", first PCA request", 1000 * request_s, "ms")])


if __name__ == "__main__":
    main()
