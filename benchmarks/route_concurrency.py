"""Latency of already-computed nnviz answers under many concurrent clients, with and without the server's caches.

Writes `--runs` runs of `--epochs` epochs (3 layers; the first run on
`--big-points` probe points, the others on `--points`; cross-layer
correlations every epoch) with the nnviz writer, no training. Then, once
with the server's caches (listing reuse, incremental index, ready answers)
and once without (`NNVIZ_TB_SERVER_CACHES=0`: the server as it was), it
starts a real `tensorboard`, waits until every run is listed, computes
every answer of the mix once (PCA projections, PCA evolutions over epochs
and over layers, `/runs`, `/correlations`), and lets `--clients` threads
request the mix for `--seconds`, each on a new connection as a browser
would (gzip accepted). Prints p50/p95/p99 latency and errors (anything but
a 200) of both, side by side, per route. Each server runs as users get it:
its background precomputation (PCA, t-SNE of every record) may still be
working while the clients run.

    python benchmarks/route_concurrency.py [--runs 20] [--epochs 20] [--clients 50] [--seconds 30]
                                           [--quick] [--only-new]
"""

import argparse
import collections
import functools
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import numpy as np  # noqa: E402

from _report import report, row  # noqa: E402
from conftest import TensorBoardServer  # noqa: E402
from nnviz_tb import metadata  # noqa: E402
from nnviz_tb.summary import NnvizWriter, write_blobs  # noqa: E402

LAYERS = {"dense_64": 64, "dense_32": 32, "output": 10}
CLASSES = 10
ROUTE = "/data/plugin/nnviz"
TARGET_P95_MS = 200


def write_run(run_dir, points, epochs, seed):
    """One run: probe, then per epoch activations of `LAYERS`, predictions and cross-layer CKA."""
    rng = np.random.default_rng(seed)
    labels = np.arange(points, dtype=np.int32) % CLASSES
    info = {"num_points": points, "class_names": ["c%d" % c for c in range(CLASSES)],
            "layers": [{"name": n, "dim": d, "reduction": "none"} for n, d in LAYERS.items()]}
    writer = NnvizWriter(run_dir)
    writer.write_probe(0, info, labels, None)
    centres = {n: rng.normal(size=(CLASSES, d)) for n, d in LAYERS.items()}
    for epoch in range(epochs):
        spread = 3.0 / (1 + epoch)
        activations = {n: (centres[n][labels] + rng.normal(0, spread, (points, d))).astype(np.float32)
                       for n, d in LAYERS.items()}
        predictions = np.where(rng.random(points) < 0.1 + 0.8 * epoch / epochs, labels, (labels + 1) % CLASSES)
        writer.write_epoch(epoch, activations, predictions, {n: "none" for n in LAYERS})
        scores = metadata.encode_array(np.eye(len(LAYERS), dtype=np.float32))
        content = dict(epoch=epoch, layers=list(LAYERS), dims=list(LAYERS.values()), measures=["cka"],
                       live_features=list(LAYERS.values()))
        writer.submit(functools.partial(write_blobs, metadata.correlations_tag(epoch), [scores], epoch,
                                        metadata.create_summary_metadata(metadata.KIND_CORRELATIONS, **content)))
    writer.close()


def request_mix(runs, epochs):
    """The paths the clients request: what a tab asks for while looking at these runs."""
    last, layers = epochs - 1, list(LAYERS)
    paths = [ROUTE + "/runs"]
    for run in runs:
        paths.append(ROUTE + "/correlations?run=%s" % run)
        paths.append(ROUTE + "/evolution?run=%s&over=layers&epoch=%d&method=pca" % (run, last))
        paths.append(ROUTE + "/evolution?run=%s&over=epochs&layer=dense_32&method=pca" % run)
        for layer in layers:
            for epoch in sorted({0, epochs // 2, last}):
                paths.append(ROUTE + "/projection?run=%s&layer=%s&epoch=%d&method=pca" % (run, layer, epoch))
    return paths


def get(port, path, timeout=120):
    """`(status, seconds)` of one GET on a new connection."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    except OSError:
        return None, time.perf_counter() - start
    finally:
        connection.close()


def warm(server, paths, timeout=900):
    """Requests every path until it answers 200 (each computed once); raises on another status."""
    deadline = time.time() + timeout
    pending = list(paths)
    while pending:
        if time.time() > deadline:
            raise RuntimeError("still computing after %d s: %s" % (timeout, pending[:3]))
        status, _ = get(server.port, pending[0])
        if status == 200:
            pending.pop(0)
        elif status == 202:
            time.sleep(0.2)
        else:
            raise RuntimeError("%s answered %s" % (pending[0], status))


def load(port, paths, clients, seconds):
    """`(latencies {route: [s]}, errors)` of `clients` threads requesting random `paths` for `seconds`."""
    latencies, errors, lock = collections.defaultdict(list), [], threading.Lock()
    stop = time.perf_counter() + seconds

    def client(seed):
        rng = random.Random(seed)
        while time.perf_counter() < stop:
            path = rng.choice(paths)
            status, took = get(port, path)
            with lock:
                latencies[path[len(ROUTE):].split("?")[0]].append(took)
                if status != 200:
                    errors.append((path, status))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def measure(logdir, cache_dir, runs, paths, args, caches):
    """Starts TensorBoard (with or without the server caches), warms the mix, then loads it."""
    os.environ["NNVIZ_TB_SERVER_CACHES"] = "1" if caches else "0"
    server = TensorBoardServer(logdir, cache_dir)
    try:
        server.wait_for_runs(runs, timeout=300, settle=3.0)
        start = time.perf_counter()
        warm(server, paths)
        print("%s: %d answers ready in %.1f s" % (
            "cached" if caches else "uncached", len(paths), time.perf_counter() - start), flush=True)
        latencies, errors = load(server.port, paths, args.clients, args.seconds)
    finally:
        server.stop()
    result = {"all": percentiles(sum(latencies.values(), []))}
    result.update((route, percentiles(times)) for route, times in sorted(latencies.items()))
    result["all"].update(errors=len(errors), examples=errors[:3])
    return result


def percentiles(seconds):
    """`{p50, p95, p99 (ms), requests}` of latencies."""
    ms = np.percentile(seconds, [50, 95, 99]) * 1e3 if seconds else [float("nan")] * 3
    return {"p50": ms[0], "p95": ms[1], "p99": ms[2], "requests": len(seconds), "errors": 0, "examples": []}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--big-points", type=int, default=5000)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--quick", action="store_true", help="5 runs of 6 epochs, 20 clients, 8 s")
    parser.add_argument("--only-new", action="store_true", help="skip the server without its caches")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.epochs, args.clients, args.seconds = 5, 6, 20, 8

    runs = ["run%02d" % i for i in range(args.runs)]
    paths = request_mix(runs, args.epochs)
    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        for i, run in enumerate(runs):
            write_run(os.path.join(root, "logs", run), args.big_points if i == 0 else args.points, args.epochs, i)
        print("wrote %d runs x %d epochs in %.1f s; %d paths in the mix" % (
            args.runs, args.epochs, time.perf_counter() - start, len(paths)), flush=True)
        cache_dir = os.path.join(root, "cache")
        os.makedirs(cache_dir)
        results = {"cached": measure(os.path.join(root, "logs"), cache_dir, runs, paths, args, True)}
        if not args.only_new:
            results["uncached"] = measure(os.path.join(root, "logs"), cache_dir, runs, paths, args, False)

    print("%d clients, %.0f s, %d runs x %d epochs:" % (args.clients, args.seconds, args.runs, args.epochs))
    print("%-9s %-13s %9s %9s %9s %9s %7s" % ("server", "route", "p50 ms", "p95 ms", "p99 ms", "requests", "errors"))
    for name, by_route in results.items():
        for route, r in by_route.items():
            print("%-9s %-13s %9.1f %9.1f %9.1f %9d %7d  %s" % (
                name, route, r["p50"], r["p95"], r["p99"], r["requests"], r["errors"], r["examples"] or ""))
    new = results["cached"]["all"]
    what = "already-computed answers, %d clients, %d runs x %d epochs" % (args.clients, args.runs, args.epochs)
    rows = [row("Plugin routes, %s, p95" % what, new["p95"], "ms", "< %d" % TARGET_P95_MS,
                new["p95"] < TARGET_P95_MS),
            row("Plugin routes, %s, errors" % what, new["errors"], "", "0", new["errors"] == 0)]
    if "uncached" in results:
        rows.append(row("Plugin routes, %s, p95 without / with the server caches" % what,
                        results["uncached"]["all"]["p95"] / new["p95"], "x"))
    report(rows)


if __name__ == "__main__":
    main()
