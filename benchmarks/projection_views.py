"""How long the tab's projection views take on a real run, as the tab asks for them.

Serves `--logdir` (default: trains `examples/mnist_cnn.py --probe-size 5000`
into `/tmp/nnviz_projection_views` first) with a real `tensorboard`, an empty
disk cache and no background precomputation, and polls the routes every
0.5 s as the tab does:

1. "Across layers" with t-SNE at the last epoch: seconds until the first
   frame can be drawn (a finished frame, one still being optimised, or an
   earlier epoch's layout of its layer standing in for it), until a frame
   shows its own layout (finished or being optimised), until the first
   finished frame, and until the whole view is ready;
2. right after leaving a t-SNE "Across epochs" view (cold, polled for 3 s,
   then no more): seconds until a PCA view of another layer is ready;
3. the same "Across layers" view after a restart of TensorBoard (disk cache).

    python benchmarks/projection_views.py [--logdir DIR] [--quick]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["NNVIZ_TB_PRECOMPUTE"] = "0"  # Cold: nothing computed ahead.
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from _report import report, row  # noqa: E402
from conftest import TensorBoardServer  # noqa: E402

ROUTE = "/data/plugin/nnviz"
QUICK_ARGS = ["--quick"]
POLL_SECONDS = 0.5


def get(server, path):
    try:
        with urllib.request.urlopen(server.url + ROUTE + path, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def watch(server, path, seconds=None):
    """Polls `path` like the tab; `{first_drawn, first_own, first_finished, ready}` seconds (None if not reached)."""
    start = time.perf_counter()
    times = {"first_drawn": None, "first_own": None, "first_finished": None, "ready": None}
    while seconds is None or time.perf_counter() - start < seconds:
        status, body = get(server, path)
        now = time.perf_counter() - start
        if status not in (200, 202):
            raise RuntimeError("%s answered %d: %s" % (path, status, body))
        frames = [f for f in body.get("frames") or [] if f]
        if frames or (status == 200):
            times["first_drawn"] = times["first_drawn"] or now
        if status == 200 or any("stand_in_epoch" not in f for f in frames):
            times["first_own"] = times["first_own"] or now
        if status == 200 or any(not f.get("partial") for f in frames):
            times["first_finished"] = times["first_finished"] or now
        if status == 200:
            times["ready"] = now
            return times
        time.sleep(POLL_SECONDS)
    return times


def train(logdir, quick):
    args = [sys.executable, os.path.join(ROOT, "examples", "mnist_cnn.py"), "--logdir", os.path.join(logdir, "cnn"),
            "--probe-size", "1000" if quick else "5000", "--epochs", "2" if quick else "5"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default=None, help="A log dir with one nnviz run (default: train the CNN).")
    parser.add_argument("--quick", action="store_true", help="1,000 probe points, 2 epochs.")
    args = parser.parse_args()
    logdir = args.logdir or os.path.join(tempfile.gettempdir(), "nnviz_projection_views" + ("_quick" * args.quick))
    if not os.path.isdir(logdir):
        print("Training examples/mnist_cnn.py into %s ..." % logdir, flush=True)
        train(logdir, args.quick)
    cache_dir = tempfile.mkdtemp(prefix="nnviz_views_cache_")
    server = TensorBoardServer(logdir, cache_dir)
    try:
        server.wait_for_runs([], timeout=300, settle=4.0)
        status, runs = get(server, "/runs")
        run, info = next((r, i) for r, i in runs.items() if i["has_activations"])
        layers, last = info["layers"], info["epochs"][-1]
        print("run %r: %d points, %d layers, epochs %s" % (run, info["num_points"], len(layers), info["epochs"]))
        across = "/evolution?run=%s&over=layers&epoch=%d&method=tsne" % (run, last)
        cold = watch(server, across)
        print("Across layers, t-SNE, cold: first frame drawn %.1f s (its own layout %.1f s), first finished %.1f s, "
              "all %d ready %.1f s" % (cold["first_drawn"], cold["first_own"], cold["first_finished"], len(layers),
                                       cold["ready"]), flush=True)
        watch(server, "/evolution?run=%s&over=epochs&layer=%s&method=tsne&seed=1" % (run, layers[-1]), seconds=3)
        start = time.perf_counter()
        pca = watch(server, "/evolution?run=%s&over=epochs&layer=%s&method=pca" % (run, layers[0]))
        print("PCA across epochs right after leaving a t-SNE view: ready in %.2f s" % pca["ready"])
    finally:
        server.stop()
    server = TensorBoardServer(logdir, cache_dir)
    try:
        server.wait_for_runs([run], timeout=300, settle=4.0)
        restarted = watch(server, across)
        print("Across layers, t-SNE, after a restart (disk cache): ready in %.2f s" % restarted["ready"])
    finally:
        server.stop()
    points = info["num_points"]
    report([
        row("t-SNE Across layers, %d points: first frame drawn" % points, cold["first_drawn"], "s", "< 5",
            cold["first_drawn"] < 5),
        row("t-SNE Across layers, %d points: first frame with its own layout" % points, cold["first_own"], "s"),
        row("t-SNE Across layers, %d points: first frame finished" % points, cold["first_finished"], "s"),
        row("t-SNE Across layers, %d points, %d frames: all ready" % (points, len(layers)), cold["ready"], "s",
            "< 60", cold["ready"] < 60),
        row("PCA view right after leaving a t-SNE view", pca["ready"], "s", "< 2", pca["ready"] < 2),
        row("t-SNE Across layers after a restart (disk cache)", restarted["ready"], "s"),
    ])


if __name__ == "__main__":
    main()
