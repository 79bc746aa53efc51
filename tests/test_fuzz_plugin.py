"""Fault injection and fuzzing of the plugin: damaged plugin content, blobs, cache files and
hostile route parameters. Every answer is < 500 and JSON (or a PNG), no NaN reaches JSON,
and the good run beside the damaged ones keeps its exact answers.

Deterministic (`derandomize=True`); the counts of requests, faults and statuses are printed
at the end of the module. `NNVIZ_FUZZ_SCALE=20` runs 20 times as many examples.
"""

import collections
import dataclasses
import json
import os
import urllib.parse

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as tb_data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from werkzeug import test as werkzeug_test

from nnviz_tb import metadata
from nnviz_tb.plugin import analyses, job_types, jobs, nnviz_plugin, run_data
from conftest import TensorBoardServer
from damaged_runs import activations_summary, good_run, probe_summary, replaced, write_run

ROUTE = "/data/plugin/nnviz"
COUNTS = collections.Counter()
SCALE = int(os.environ.get("NNVIZ_FUZZ_SCALE", "1"))
FUZZ = dict(derandomize=True, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                   HealthCheck.function_scoped_fixture])
# Every route of `get_plugin_apps`; "/static/*" is fuzzed with file names in `params`' place.
ROUTES = sorted(nnviz_plugin.NnvizPlugin(base_plugin.TBContext()).get_plugin_apps())
GOOD_PATHS = ("/projection?run=good&layer=a&epoch=1&method=pca", "/neurons?run=good&layer=b&epoch=0")


def check_answer(status, content_type, body):
    """A served answer: < 500, JSON without NaN/Infinity (or a PNG, a static file); returns the JSON or None."""
    COUNTS["requests"] += 1
    COUNTS["status %d" % status] += 1
    assert status < 500, body[:300]
    if content_type == "image/png":
        assert status == 200 and body.startswith(b"\x89PNG")
        return None
    if content_type.startswith(("application/javascript", "text/css", "text/plain")):  # Static files.
        assert status == 200 or (status == 404 and body == b"Not found")
        return None

    def reject(constant):
        raise AssertionError("%s in JSON" % constant)

    value = json.loads(body, parse_constant=reject)
    assert content_type.startswith("application/json")
    if status >= 400:
        assert set(value) == {"error"} and "Traceback" not in value["error"]
    return value


@dataclasses.dataclass
class Env:
    """A log dir with the run `good`, and damaged runs added one per example."""

    root: object
    multiplexer: object
    client: object
    expected: dict
    runs: int = 0

    def get(self, path, **kwargs):
        """GET with polling while the answer is 202; returns `(status, json or None)`."""
        for _ in range(600):
            response = self.client.get(ROUTE + path, **kwargs)
            value = check_answer(response.status_code, response.headers["Content-Type"], response.get_data())
            if response.status_code != 202:
                return response.status_code, value
        raise AssertionError("still computing: %s" % path)

    def add_run(self, summaries):
        """Writes a damaged run; returns its name."""
        self.runs += 1
        name = "bad%03d" % self.runs
        write_run(self.root / name, summaries)
        self.multiplexer.AddRunsFromDirectory(str(self.root))
        self.multiplexer.Reload()
        return name

    def assert_good_run_unchanged(self):
        status, runs = self.get("/runs")
        assert status == 200 and runs["good"] == self.expected["/runs"]
        for path in GOOD_PATHS:
            assert self.get(path) == (200, self.expected[path])


@pytest.fixture(scope="module", autouse=True)
def report_counts(request):
    """Prints `COUNTS` (requests, faults, statuses) after the module's tests."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\nnnviz fuzz: " + ", ".join("%s: %d" % kv for kv in sorted(COUNTS.items())))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz_logs")
    mp = pytest.MonkeyPatch()
    mp.setenv("NNVIZ_TB_CACHE_DIR", str(tmp_path_factory.mktemp("fuzz_cache")))
    mp.setattr(run_data, "MAX_REUSE_S", 0.0)  # Runs are added between requests: list on each one.
    write_run(root / "good", good_run()[0])
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(root))
    multiplexer.Reload()
    provider = tb_data_provider.MultiplexerDataProvider(multiplexer, str(root))
    plugin = nnviz_plugin.NnvizPlugin(base_plugin.TBContext(data_provider=provider, logdir=str(root)))
    client = werkzeug_test.Client(application.TensorBoardWSGI([plugin], data_provider=provider))
    environment = Env(root, multiplexer, client, {})
    environment.expected["/runs"] = environment.get("/runs")[1]["good"]
    for path in GOOD_PATHS:
        environment.expected[path] = environment.get(path)[1]
    yield environment
    mp.undo()


def exercise(env, run):
    """Requests every view of `run` that `/runs` lists, plus one beyond them."""
    status, runs = env.get("/runs")
    assert status == 200 and run in runs
    info = runs[run]
    assert isinstance(info["problems"], list) and all(isinstance(p, str) for p in info["problems"])
    COUNTS["problems reported"] += len(info["problems"])
    layers = info["layers"][:2] or ["a"]
    epochs = info["epochs"][-1:] or [0]
    for layer in layers:
        for epoch in epochs:
            env.get("/projection?run=%s&layer=%s&epoch=%d" % (run, layer, epoch))
            env.get("/neurons?run=%s&layer=%s&epoch=%d" % (run, layer, epoch))
    env.get("/evolution?run=%s&over=epochs&layer=%s&bundle=1" % (run, layers[0]))
    env.get("/evolution?run=%s&over=layers&epoch=%d" % (run, epochs[0]))
    env.get("/discriminative?run=%s&layer=%s&epoch=%d" % (run, layers[0], epochs[0]))
    env.get("/thumbnails?run=" + run)
    for other in ("/correlations?run=%s", "/gradients?run=%s&format=csv", "/feature_correlations?run=%s&layer=a&epoch=1",
                  "/augmentation_variance?run=%s&epoch=1", "/gradient_signs?run=%s&layer=a&epoch=1",
                  "/confusion?run=%s&epoch=1", "/saliency?run=%s&index=0",
                  "/saliency_image?run=%s&method=gradient&epoch=1&image=0"):
        env.get(other % run)  # The other loggers' routes, on records whose kind was fuzzed.
    env.get("/thumbnail?run=%s&index=39" % run)
    env.assert_good_run_unchanged()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
CONTENT_KEYS = ("kind", "layer", "epoch", "version", "shape", "layers", "measures", "class_names", "num_points",
                "method", "num_images")
KINDS = (metadata.KIND_PROBE, metadata.KIND_ACTIVATIONS, metadata.KIND_PREDICTIONS, metadata.KIND_CORRELATIONS,
         metadata.KIND_FEATURE_CORRELATIONS, metadata.KIND_AUGMENTATION_VARIANCE, metadata.KIND_GRADIENT_STATS,
         metadata.KIND_CONFUSION, metadata.KIND_SALIENCY)


def content_strategy():
    """Plugin content: raw bytes, any JSON, or nnviz-like objects with fuzzed fields."""
    field_values = {
        "kind": st.sampled_from(KINDS) | json_values,
        "layer": st.sampled_from(["a", "b", ""]) | json_values,
        "epoch": st.sampled_from([0, 1, 2, -1, True, "1", 1.0, 10**12]) | json_values,
        "version": st.sampled_from([0, 1, 2, "1", None, 1.5]),
    }
    objects = st.fixed_dictionaries(
        {"kind": field_values["kind"]},
        optional={k: field_values.get(k, json_values) for k in CONTENT_KEYS if k != "kind"},
    )
    return st.one_of(
        objects.map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=40),
        objects.map(lambda v: json.dumps(v).encode().replace(b"0", b"NaN", 1)),
    )


@settings(max_examples=40 * SCALE, **FUZZ)
@given(data=st.data())
def test_fuzzed_plugin_content(env, data):
    summaries, _ = good_run(thumbnails=False)
    chosen = data.draw(st.lists(st.sampled_from([s.tag for s in summaries]), min_size=1, max_size=3, unique=True))
    for tag in chosen:
        summaries = replaced(summaries, tag, content=data.draw(content_strategy()))
        COUNTS["faults: plugin content"] += 1
    exercise(env, env.add_run(summaries))


DTYPES = st.sampled_from(["<f2", "<f4", ">f4", "<f8", "<i1", "<i8", "|u1", "|b1", "<c8", "<U3", "|S2", "<M8[s]"])


def array_strategy(shapes):
    """Arrays of any dtype (raw bytes `V4` too) and shape; float32 ones with NaN, inf and ~1e38."""
    return st.one_of(
        hnp.arrays(DTYPES, shapes, fill=st.nothing()),
        hnp.arrays(st.just(np.float32), shapes, elements=st.floats(width=32) | st.sampled_from([1e38, -3e38, 0.0])),
        shapes.map(lambda shape: np.zeros(shape, "V4")),
    )


def npy_mutation(data, payload):
    """A valid `.npy` payload truncated, with a flipped byte, or with a lying header."""
    kind = data.draw(st.sampled_from(["truncate", "flip", "shape"]))
    if kind == "truncate":
        return payload[: data.draw(st.integers(0, len(payload) - 1))]
    if kind == "flip":
        i = data.draw(st.integers(0, len(payload) - 1))
        return payload[:i] + bytes([payload[i] ^ data.draw(st.integers(1, 255))]) + payload[i + 1 :]
    claim = data.draw(st.sampled_from(["(10**12, 5)", "(1000000000000, 5)", "(40,)", "(-1, 5)", "(40, 5, 1)",
                                       "(2**63, 5)", "(0, 5)", "()"]))
    return payload.replace(b"(40, 5)", claim.encode()[:7].ljust(7))


def blob_strategy(data, shapes, valid):
    choice = data.draw(st.sampled_from(["array", "mutation", "bytes"]))
    if choice == "array":
        return metadata.encode_array(data.draw(array_strategy(shapes)))
    if choice == "mutation":
        return npy_mutation(data, metadata.encode_array(valid))
    return data.draw(st.binary(max_size=200))


@settings(max_examples=50 * SCALE, **FUZZ)
@given(data=st.data())
def test_fuzzed_blobs(env, data):
    summaries, labels = good_run()
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=41) | st.sampled_from(
        [(40, 5), (40,), (40, 4, 4), (40, 8), (39, 5), (40, 4, 4, 3), (40, 4, 4, 4)])
    targets = data.draw(st.lists(st.sampled_from(["info", "labels", "thumbnails", "activations", "predictions"]),
                                 min_size=1, max_size=3, unique=True))
    probe = list(summaries[0].blobs)
    if "info" in targets:
        probe[0] = data.draw(st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=30),
                                       st.fixed_dictionaries({}, optional={k: json_values for k in (
                                           "class_names", "layers", "num_points")}).map(lambda v: json.dumps(v).encode())))
    if "labels" in targets:
        probe[1] = blob_strategy(data, shapes, labels)
    if "thumbnails" in targets:
        probe[2] = blob_strategy(data, shapes, np.zeros((40, 4, 4), np.uint8))
    if data.draw(st.booleans()):
        probe = probe[: data.draw(st.integers(0, 2))]
    summaries = replaced(summaries, metadata.PROBE_TAG, blobs=probe)
    if "activations" in targets:
        tag = metadata.activations_tag("a", 1)
        summaries = replaced(summaries, tag, blobs=[blob_strategy(data, shapes, np.zeros((40, 5), np.float32))])
    if "predictions" in targets:
        tag = metadata.predictions_tag(1)
        summaries = replaced(summaries, tag, blobs=[blob_strategy(data, shapes, labels)])
    COUNTS["faults: blobs"] += len(targets)
    exercise(env, env.add_run(summaries))


@settings(max_examples=60 * SCALE, **FUZZ)
@given(data=st.data())
def test_fuzzed_cache_files(tmp_path_factory, data):
    cache_dir = tmp_path_factory.mktemp("cache")
    labels = np.arange(40) % 4
    values = (np.random.default_rng(0).normal(size=(40, 5)) + labels[:, None]).astype(np.float32)
    analysis = data.draw(st.sampled_from([analyses.point_projection("pca"), analyses.neuron_projection("mds"),
                                          analyses.discriminative(4)]))
    request = job_types.Request(("r",), lambda: values, analysis, labels, "fuzzed cache")
    (expected,), _ = jobs.Jobs(str(cache_dir), wait_seconds=60).get([request])
    (path,) = cache_dir.glob("*.npz")
    stored = path.read_bytes()
    kind = data.draw(st.sampled_from(["truncate", "flip", "bytes", "arrays"]))
    if kind == "truncate":
        path.write_bytes(stored[: data.draw(st.integers(0, len(stored) - 1))])
    elif kind == "flip":
        i = data.draw(st.integers(0, len(stored) - 1))
        path.write_bytes(stored[:i] + bytes([stored[i] ^ data.draw(st.integers(1, 255))]) + stored[i + 1 :])
    elif kind == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=300)))
    else:
        names = data.draw(st.lists(st.sampled_from(sorted(expected) + ["other"]), max_size=5, unique=True))
        np.savez(path, **{n: data.draw(array_strategy(hnp.array_shapes(min_dims=0, max_dims=2, max_side=41)))
                          for n in names})
    COUNTS["faults: cache files"] += 1
    (result,), _ = jobs.Jobs(str(cache_dir), wait_seconds=60).get([request])
    assert sorted(result) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(result[name], expected[name])
    COUNTS["requests"] += 1


PARAMS = ("run", "layer", "epoch", "method", "over", "bundle", "layers", "epochs", "index", "measure", "format",
          "image")
hostile_text = st.one_of(
    st.sampled_from(["good", "bad001", "a", "b", "0", "1", "-1", "1e3", "999999999", "9" * 30, "pca", "tsne", "mds",
                     "layers", "epochs", "1,0,a", ",,,", "../../etc/passwd", "%00", "<script>", "x" * 1100, "cka",
                     "csv", "json", "features", "samples"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)


@settings(max_examples=400 * SCALE, **FUZZ)
@given(route=st.sampled_from(ROUTES),
       params=st.dictionaries(st.sampled_from(PARAMS) | st.text(max_size=5), hostile_text, max_size=5))
def test_fuzzed_route_parameters(env, route, params):
    if env.runs == 0:  # Beside the good run: one damaged one, whatever the test order.
        summaries, _ = good_run()
        env.add_run(replaced(summaries, metadata.activations_tag("a", 1), blobs=[b"garbage"]))
    env.get(route.replace("*", urllib.parse.quote("".join(params))), query_string=params)
    if env.runs and COUNTS["requests"] % 50 == 0:
        env.assert_good_run_unchanged()


BAD_RUNS = {  # Real-TensorBoard log dir: the good run beside one of each kind of damage.
    "bad_blob": lambda s, labels: replaced(s, metadata.activations_tag("a", 1), blobs=[b"garbage"]),
    "bad_content": lambda s, labels: replaced(s, metadata.activations_tag("a", 1), content=b'{"kind": "activations"}'),
    "bad_probe": lambda s, labels: replaced(s, metadata.PROBE_TAG, blobs=[b"[]", b"x", b""]),
    "bad_shape": lambda s, labels: s + [activations_summary("a", 2, np.zeros((7, 3, 2)))],
    "huge": lambda s, labels: s + [activations_summary("a", 2, np.full((40, 5), 3e38, np.float32) * (labels[:, None] % 2))],
    "sparse": lambda s, labels: replaced(s, metadata.PROBE_TAG, blobs=probe_summary({}, labels * 100_000).blobs),
}


@pytest.fixture(scope="module")
def real_tensorboard(tmp_path_factory):
    root = tmp_path_factory.mktemp("real_fuzz_logs")
    summaries, labels = good_run()
    write_run(root / "good", summaries)
    for name, damage in BAD_RUNS.items():
        write_run(root / name, damage(summaries, labels))
        COUNTS["faults: runs on a real TensorBoard"] += 1
    server = TensorBoardServer(str(root), tmp_path_factory.mktemp("real_fuzz_cache"))
    yield server
    server.stop()


@settings(max_examples=150 * SCALE, **FUZZ)
@given(route=st.sampled_from(ROUTES),
       params=st.dictionaries(st.sampled_from(PARAMS), hostile_text | st.sampled_from(sorted(BAD_RUNS)), max_size=4))
def test_fuzzed_requests_on_a_real_tensorboard(real_tensorboard, route, params):
    path = route.replace("*", urllib.parse.quote("".join(params)))
    status, body, content_type = real_tensorboard.get(ROUTE + path + "?" + urllib.parse.urlencode(params))
    check_answer(status, content_type or "", body)
