"""Shared fixtures: small trained runs on load_digits and a real TensorBoard server."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Servers started by tests compute only what a test asks for (tests/test_precompute.py turns it on).
os.environ.setdefault("NNVIZ_TB_PRECOMPUTE", "0")


def digits():
    """`(x [N, 64] float32 in 0..1, labels [N] int)` of scikit-learn's bundled digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype("float32"), data.target.astype("int64")


def train_digits_mlp(log_dir, epochs=3, probe_size=500, logger_class="ActivationLogger", callbacks=(), **logger_args):
    """Trains a small MLP on the digits with a logger (`nnviz_tb.<logger_class>`) writing to `log_dir`
    (and other `callbacks`)."""
    import keras

    import nnviz_tb

    keras.utils.set_random_seed(0)
    x, y = digits()
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu", name="hidden1"),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(16, activation="relu", name="hidden2"),
            keras.layers.Dense(10, activation="softmax", name="output"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    logger = getattr(nnviz_tb, logger_class)(log_dir, probe=(x[:probe_size], y[:probe_size]), **logger_args)
    model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=[logger, *callbacks])
    return model, logger


@pytest.fixture(scope="session")
def digits_logdir(tmp_path_factory):
    """A log dir with one run, `mlp`, of 3 epochs (steps 0..3) on 500 probe points."""
    root = tmp_path_factory.mktemp("logs")
    train_digits_mlp(str(root / "mlp"))
    return str(root)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TensorBoardServer:
    """A `tensorboard` subprocess on a free port, serving `logdir`."""

    def __init__(self, logdir, cache_dir):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, NNVIZ_TB_CACHE_DIR=str(cache_dir))
        self.log_path = os.path.join(str(cache_dir), "tensorboard.log")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", logdir,
             "--host", "127.0.0.1", "--port", str(self.port), "--reload_interval", "2"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/data/plugins_listing", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("TensorBoard did not start:\n" + open(self.log_path).read())

    def get(self, path):
        """`(status, body bytes, content type)` of a GET on the server."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as r:
                return r.status, r.read(), r.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type")

    def wait_for_runs(self, runs, timeout=120, settle=6.0):
        """Waits until the nnviz `runs` route lists every one of `runs` and has not changed for
        `settle` seconds (TensorBoard loads runs, and their steps, a piece at a time every
        `--reload_interval` = 2 s; the tab opens on the first run and its latest epoch)."""
        import json

        deadline = time.time() + timeout
        last, since = None, time.time()
        while time.time() < deadline:
            status, body, _ = self.get("/data/plugin/nnviz/runs")
            if body != last:
                last, since = body, time.time()
            elif status == 200 and set(runs) <= set(json.loads(body)) and time.time() - since >= settle:
                return
            time.sleep(0.5)
        raise AssertionError("TensorBoard did not list the runs %s in %d s" % (sorted(runs), timeout))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture(scope="session")
def tensorboard_server(digits_logdir, tmp_path_factory):
    server = TensorBoardServer(digits_logdir, tmp_path_factory.mktemp("cache"))
    yield server
    server.stop()


@pytest.fixture
def rng():
    return np.random.default_rng(0)
