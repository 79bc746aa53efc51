"""The plugin's HTTP routes, through werkzeug's test client and a real TensorBoard."""

import json
import os
import time

import numpy as np
import pytest
from tensorboard.backend import application
from tensorboard.plugins import base_plugin
from werkzeug import test as werkzeug_test

from nnviz_tb.plugin import nnviz_plugin
from nnviz_tb.summary import NnvizWriter
from conftest import TensorBoardServer
from event_reading import python_data_provider

ROUTE = "/data/plugin/nnviz"


def make_client(logdir):
    context = base_plugin.TBContext(data_provider=python_data_provider(logdir), logdir=logdir)
    plugin = nnviz_plugin.NnvizPlugin(context)
    app = application.TensorBoardWSGI([plugin], data_provider=context.data_provider)
    return werkzeug_test.Client(app), plugin


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNVIZ_TB_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def client(digits_logdir):
    return make_client(digits_logdir)[0]


def get_json(client, path, wait_ready=True):
    """GET a route; if it answers 202, poll until it is ready."""
    deadline = time.time() + 120
    while True:
        response = client.get(ROUTE + path)
        assert response.headers["Content-Type"].startswith("application/json")
        body = json.loads(response.get_data())
        if response.status_code != 202 or not wait_ready or time.time() > deadline:
            return response.status_code, body
        assert 0.0 <= body["progress"] <= 1.0
        time.sleep(0.2)


def test_runs(client):
    status, runs = get_json(client, "/runs")
    assert status == 200
    assert runs["mlp"]["layers"] == ["hidden1", "hidden2", "output"]
    assert runs["mlp"]["epochs"] == [0, 1, 2, 3]
    assert runs["mlp"]["num_points"] == 500
    assert runs["mlp"]["class_names"] == [str(i) for i in range(10)]
    assert runs["mlp"]["has_thumbnails"] is True
    assert runs["mlp"]["layer_info"][0]["dim"] == 32


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_projection(client, method):
    status, body = get_json(client, "/projection?run=mlp&layer=hidden2&epoch=3&method=" + method)
    assert status == 200 and body["status"] == "ready"
    points = np.array(body["points"])
    assert points.shape == (500, 2) and np.isfinite(points).all()
    assert len(body["labels"]) == len(body["predictions"]) == 500
    assert 0.3 < body["neighborhood_hit"] <= 1.0 and body["k"] == 6  # Chance is about 0.1.


def test_tsne_reports_progress_then_is_cached(digits_logdir, cache_dir):
    client, plugin = make_client(digits_logdir)
    plugin._activations._jobs._wait = 0.0  # Answer at once (two 500-point frames may take < 0.3 s).
    response = client.get(ROUTE + "/projection?run=mlp&layer=hidden1&epoch=1&method=tsne")
    assert response.status_code == 202
    body = json.loads(response.get_data())
    assert body["status"] == "computing" and body["progress"] == pytest.approx(0, abs=0.5)
    assert set(body) == {"status", "progress", "eta_seconds", "preview"}
    _, ready = get_json(client, "/projection?run=mlp&layer=hidden1&epoch=1&method=tsne")
    assert len(list(cache_dir.glob("*.npz"))) == 2  # Epoch 1 and epoch 0, the layout it starts from.
    start = time.perf_counter()
    status, again = get_json(client, "/projection?run=mlp&layer=hidden1&epoch=1&method=tsne")
    assert status == 200 and again == ready
    assert time.perf_counter() - start < 0.5
    # A restarted server finds the disk cache: no 202 this time.
    fresh, _ = make_client(digits_logdir)
    assert fresh.get(ROUTE + "/projection?run=mlp&layer=hidden1&epoch=1&method=tsne").status_code == 200


def test_a_computing_sequence_answers_with_its_finished_frames(client):
    response = client.get(ROUTE + "/evolution?run=mlp&over=epochs&layer=output&method=tsne&seed=7")
    body = json.loads(response.get_data())
    assert response.status_code == 202 and body["status"] == "computing"
    assert body["frame_keys"] == [{"layer": "output", "epoch": e} for e in range(4)]
    assert len(body["frames"]) == body["frames_total"] == 4 and 0 <= body["frames_done"] < 4
    assert body["eta_seconds"] is None or body["eta_seconds"] >= 0
    while body["status"] == "computing":  # Finished frames come as they are done.
        done = [f for f in body["frames"] if f and not f.get("partial")]
        assert len(done) == body["frames_done"] and all(len(f["points"]) == 500 for f in done)
        time.sleep(0.2)
        body = json.loads(client.get(ROUTE + "/evolution?run=mlp&over=epochs&layer=output&method=tsne&seed=7")
                          .get_data())
    assert [f["epoch"] for f in body["frames"]] == [0, 1, 2, 3]


def test_a_frame_shows_an_earlier_epoch_of_its_layer_until_its_own_layout_exists(client):
    url = "/evolution?run=mlp&over=layers&epoch=3&method=tsne&seed=11"
    stand_ins, deadline = set(), time.time() + 120
    while True:
        body = json.loads(client.get(ROUTE + url).get_data())
        for frame in body["frames"]:
            if frame and "stand_in_epoch" in frame:
                assert frame["partial"] and 0 <= frame["stand_in_epoch"] < frame["epoch"] == 3
                assert len(frame["points"]) == 500
                stand_ins.add((frame["layer"], frame["stand_in_epoch"]))
        if body["status"] == "ready" or time.time() > deadline:
            break
        time.sleep(0.05)
    assert body["status"] == "ready" and not any("stand_in_epoch" in f or f.get("partial") for f in body["frames"])
    assert stand_ins  # e.g. ("hidden1", 0): hidden1's epoch 0 while epochs 1-3 computed.
    status, body = get_json(client, "/projection?run=mlp&layer=hidden2&epoch=3&method=tsne&seed=12")
    assert status == 200


def test_evolution_over_layers_and_epochs(client):
    status, body = get_json(client, "/evolution?run=mlp&over=layers&epoch=2&method=pca")
    assert status == 200
    assert body["frame_keys"] == [{"layer": f["layer"], "epoch": f["epoch"]} for f in body["frames"]]
    assert [(f["layer"], f["epoch"]) for f in body["frames"]] == [("hidden1", 2), ("hidden2", 2), ("output", 2)]
    status, body = get_json(client, "/evolution?run=mlp&over=epochs&layer=hidden1&method=pca&epochs=0,2,3")
    assert [f["epoch"] for f in body["frames"]] == [0, 2, 3]
    frames = [np.array(f["points"]) for f in body["frames"]]
    # Consecutive frames are aligned: rotating one away from its neighbour would not fit better.
    for before, after in zip(frames, frames[1:]):
        aligned_error = np.linalg.norm(after - before)
        assert aligned_error <= np.linalg.norm(-after - before) + 1e-6
        assert aligned_error <= np.linalg.norm(after[:, ::-1] - before) + 1e-6
    assert all(len(f["predictions"]) == 500 for f in body["frames"])
    assert "trails" not in body


def test_bundled_trails_pass_through_every_frame(client):
    status, body = get_json(client, "/evolution?run=mlp&over=layers&epoch=2&method=pca&bundle=1")
    assert status == 200
    samples = body["trails"]["samples"]
    trails = np.array(body["trails"]["points"])
    assert trails.shape == (500, 2 * samples + 1, 2)
    for f, frame in enumerate(body["frames"]):
        np.testing.assert_allclose(trails[:, f * samples], frame["points"], atol=2e-3)


@pytest.mark.parametrize("method", ["mds", "tsne"])
def test_neurons(client, method):
    status, body = get_json(client, "/neurons?run=mlp&layer=hidden1&epoch=3&method=" + method)
    assert status == 200 and body["status"] == "ready"
    assert len(body["points"]) == len(body["dead"]) == 32
    for point, dead in zip(body["points"], body["dead"]):
        assert (point is None) == dead
        assert dead or (len(point) == 2 and np.isfinite(point).all())
    live = np.array([p for p in body["points"] if p is not None])
    assert len(live) >= 3 and np.sqrt((live**2).sum(axis=1).mean()) == pytest.approx(1, abs=1e-3)


def test_discriminative(client):
    status, body = get_json(client, "/discriminative?run=mlp&layer=hidden2&epoch=3")
    assert status == 200 and body["status"] == "ready"
    importance = np.array(body["importance"])
    assert importance.shape == (16, 10) and (importance >= 0).all()
    assert body["class_names"] == [str(i) for i in range(10)]
    best = np.array(body["best_class"])
    live = best >= 0
    assert live.sum() >= 8
    assert (best[live] == importance[live].argmax(axis=1)).all()


def write_run_with_dead_neurons(run_dir, num_points=60, dim=6, dead=(1, 4)):
    """One layer `h` at epoch 0 whose neurons `dead` are constant."""
    rng = np.random.default_rng(2)
    labels = np.arange(num_points) % 3
    values = rng.normal(size=(num_points, dim)).astype("float32") + labels[:, None]
    values[:, list(dead)] = 0.5
    writer = NnvizWriter(str(run_dir))
    writer.write_probe(0, {"num_points": num_points, "class_names": ["x", "y", "z"]}, labels, None)
    writer.write_epoch(0, {"h": values}, labels, {"h": "none"})
    writer.close()


def test_dead_neurons_are_null_and_best_class_minus_one(tmp_path):
    write_run_with_dead_neurons(tmp_path / "dead")
    client, _ = make_client(str(tmp_path))
    _, body = get_json(client, "/neurons?run=dead&layer=h&epoch=0")
    assert body["dead"] == [False, True, False, False, True, False]
    assert [p is None for p in body["points"]] == body["dead"]
    _, body = get_json(client, "/discriminative?run=dead&layer=h&epoch=0")
    assert [b == -1 for b in body["best_class"]] == [False, True, False, False, True, False]
    assert np.array(body["importance"])[[1, 4]].max() == 0
    assert body["class_names"] == ["x", "y", "z"]


def test_discriminative_reports_progress_then_is_cached(digits_logdir, cache_dir):
    client, _ = make_client(digits_logdir)
    path = "/discriminative?run=mlp&layer=hidden1&epoch=2"
    response = client.get(ROUTE + path)
    assert response.status_code == 202
    assert json.loads(response.get_data())["status"] == "computing"
    _, ready = get_json(client, path)
    assert len(list(cache_dir.glob("*.npz"))) == 1
    with np.load(next(cache_dir.glob("*.npz")), allow_pickle=False) as stored:
        assert sorted(stored.files) == ["best_class", "importance", "neurons", "non_finite", "num_neurons"]
    start = time.perf_counter()
    status, again = get_json(client, path)
    assert status == 200 and again == ready
    assert time.perf_counter() - start < 0.5
    # A restarted server finds the disk cache; other analyses of the same data are not mixed up.
    fresh, _ = make_client(digits_logdir)
    assert fresh.get(ROUTE + path).status_code == 200
    status, body = get_json(fresh, "/neurons?run=mlp&layer=hidden1&epoch=2&method=mds")
    assert status == 200 and "importance" not in body
    assert len(list(cache_dir.glob("*.npz"))) == 2


def test_thumbnail_is_a_png(client):
    response = client.get(ROUTE + "/thumbnail?run=mlp&index=7")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert response.get_data().startswith(b"\x89PNG")


def test_thumbnail_atlas_holds_every_thumbnail_in_row_major_tiles(client):
    import io

    from PIL import Image

    _, runs = get_json(client, "/runs")
    h, w = runs["mlp"]["thumbnail_shape"]
    atlas = np.array(Image.open(io.BytesIO(client.get(ROUTE + "/thumbnails?run=mlp").get_data())))
    cols = int(np.ceil(np.sqrt(500)))
    assert atlas.shape[:2] == (-(-500 // cols) * h, cols * w)
    single = np.array(Image.open(io.BytesIO(client.get(ROUTE + "/thumbnail?run=mlp&index=30").get_data())))
    row, col = divmod(30, cols)
    np.testing.assert_array_equal(atlas[row * h : (row + 1) * h, col * w : (col + 1) * w], single)


@pytest.mark.parametrize(
    "path, status",
    [
        ("/projection?layer=hidden1&epoch=0", 400),
        ("/projection?run=mlp&layer=hidden1&epoch=-1", 400),
        ("/projection?run=mlp&layer=hidden1&epoch=1e3", 400),
        ("/projection?run=mlp&layer=hidden1&epoch=99999999999999", 400),
        ("/projection?run=mlp&layer=hidden1&epoch=0&method=umap", 400),
        ("/projection?run=mlp&layer=hidden1&epoch=0&method=%00", 400),
        ("/projection?run=" + "x" * 5000 + "&layer=hidden1&epoch=0", 400),
        ("/projection?run=../../etc/passwd&layer=hidden1&epoch=0", 404),
        ("/projection?run=mlp&layer=<script>&epoch=0", 404),
        ("/projection?run=mlp&layer=hidden1&epoch=77", 404),
        ("/evolution?run=mlp&over=sideways", 400),
        ("/evolution?run=mlp&over=layers", 400),
        ("/evolution?run=mlp&over=layers&epoch=0&bundle=yes", 400),
        ("/evolution?run=mlp&over=epochs&layer=nope", 404),
        ("/evolution?run=mlp&over=epochs&layer=hidden1&epochs=a,b", 400),
        ("/evolution?run=mlp&over=epochs&layer=hidden1&epochs=50", 404),
        ("/neurons?run=mlp&layer=hidden1&epoch=0&method=pca", 400),
        ("/neurons?run=mlp&epoch=0", 400),
        ("/neurons?run=mlp&layer=hidden1&epoch=x", 400),
        ("/neurons?run=nope&layer=hidden1&epoch=0", 404),
        ("/neurons?run=mlp&layer=nope&epoch=0", 404),
        ("/neurons?run=mlp&layer=hidden1&epoch=77", 404),
        ("/discriminative?run=mlp&layer=hidden1", 400),
        ("/discriminative?layer=hidden1&epoch=0", 400),
        ("/discriminative?run=mlp&layer=hidden1&epoch=-2", 400),
        ("/discriminative?run=mlp&layer=<b>&epoch=0", 404),
        ("/discriminative?run=mlp&layer=hidden1&epoch=77", 404),
        ("/thumbnail?run=mlp&index=100000", 404),
        ("/thumbnail?run=mlp&index=x", 400),
        ("/thumbnails?run=nope", 404),
        ("/thumbnails", 400),
    ],
)
def test_bad_requests_get_json_errors(client, path, status):
    response = client.get(ROUTE + path)
    assert response.status_code == status
    body = json.loads(response.get_data())
    assert set(body) == {"error"} and "Traceback" not in body["error"]


def test_static_files_are_served_without_traversal(client):
    assert client.get(ROUTE + "/index.js").status_code == 200
    assert client.get(ROUTE + "/static/../nnviz_plugin.py").status_code == 404
    assert client.get(ROUTE + "/static/%2e%2e/setup.py").status_code == 404


def write_synthetic_run(run_dir, epochs, num_points=40, layers=("a", "b"), dim=5):
    """A run written by the nnviz writer itself (no training), `epochs` + 1 steps."""
    rng = np.random.default_rng(1)
    labels = np.arange(num_points) % 4
    writer = NnvizWriter(str(run_dir))
    info = {"num_points": num_points, "class_names": list("abcd"),
            "layers": [{"name": n, "dim": dim, "reduction": "none"} for n in layers]}
    writer.write_probe(0, info, labels, None)
    for epoch in range(epochs + 1):
        values = {n: rng.normal(size=(num_points, dim)).astype("float32") + labels[:, None] for n in layers}
        writer.write_epoch(epoch, values, labels, {n: "none" for n in layers})
    writer.close()
    return labels


@pytest.fixture(scope="module")
def long_logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    write_synthetic_run(root / "long", epochs=100)
    return str(root)


def test_101_epochs_all_visible_with_the_python_loader(long_logdir):
    client, _ = make_client(long_logdir)
    _, runs = get_json(client, "/runs")
    assert runs["long"]["epochs"] == list(range(101))
    status, body = get_json(client, "/evolution?run=long&over=epochs&layer=a&method=pca")
    assert status == 200 and len(body["frames"]) == 101


def test_corrupt_and_truncated_event_files(tmp_path):
    write_synthetic_run(tmp_path / "good", epochs=2)
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "events.out.tfevents.1.x").write_bytes(os.urandom(5000))
    write_synthetic_run(tmp_path / "cut", epochs=3)
    (event_file,) = (tmp_path / "cut").glob("events*")
    data = event_file.read_bytes()
    event_file.write_bytes(data[: len(data) - 100])  # Training crashed mid-write.
    client, _ = make_client(str(tmp_path))
    status, runs = get_json(client, "/runs")
    assert status == 200
    assert runs["good"]["epochs"] == [0, 1, 2]
    assert runs["cut"]["epochs"][:3] == [0, 1, 2]  # Everything before the cut survives.
    assert "garbage" not in runs
    assert get_json(client, "/projection?run=cut&layer=a&epoch=1")[0] == 200


def test_real_tensorboard_serves_the_routes(tensorboard_server):
    status, body, content_type = tensorboard_server.get("/data/plugins_listing")
    assert json.loads(body)["nnviz"]["enabled"] is True
    status, body, content_type = tensorboard_server.get(ROUTE + "/runs")
    assert status == 200 and json.loads(body)["mlp"]["epochs"] == [0, 1, 2, 3]
    path = ROUTE + "/projection?run=mlp&layer=hidden1&epoch=2&method=pca"
    status, body, content_type = tensorboard_server.get(path)
    assert status == 200 and content_type == "application/json"
    assert len(json.loads(body)["points"]) == 500
    status, body, _ = tensorboard_server.get(ROUTE + "/projection?run=mlp&layer=hidden1&epoch=x")
    assert status == 400 and "error" in json.loads(body)
    status, body, content_type = tensorboard_server.get(ROUTE + "/index.js")
    assert status == 200 and "javascript" in content_type


def test_real_tensorboard_keeps_101_epochs(long_logdir, tmp_path):
    server = TensorBoardServer(long_logdir, tmp_path)
    try:  # The Rust loader reads in the background: wait for it.
        assert _wait_for_epochs(server, "long", list(range(101))) == list(range(101))
    finally:
        server.stop()


def _wait_for_epochs(server, run, expected, timeout=60):
    deadline = time.time() + timeout
    while True:
        _, body, _ = server.get(ROUTE + "/runs")
        epochs = json.loads(body).get(run, {}).get("epochs", [])
        if epochs == expected or time.time() > deadline:
            return epochs
        time.sleep(0.5)


def test_epochs_written_while_tensorboard_runs_appear(tmp_path):
    writer = NnvizWriter(str(tmp_path / "logs" / "live"))
    labels = np.arange(20) % 2
    writer.write_probe(0, {"num_points": 20, "class_names": ["a", "b"]}, labels, None)
    writer.write_epoch(0, {"h": np.random.rand(20, 3)}, labels, {"h": "none"})
    writer.flush()
    server = TensorBoardServer(str(tmp_path / "logs"), tmp_path)
    try:
        assert _wait_for_epochs(server, "live", [0]) == [0]
        writer.write_epoch(1, {"h": np.random.rand(20, 3)}, labels, {"h": "none"})
        writer.flush()
        assert _wait_for_epochs(server, "live", [0, 1]) == [0, 1]
    finally:
        writer.close()
        server.stop()


def test_a_run_of_another_logger_is_listed_without_activations(tmp_path):
    from nnviz_tb import metadata
    from nnviz_tb.summary import write_blobs

    writer = NnvizWriter(str(tmp_path / "other"))
    writer.submit(lambda: write_blobs(
        "nnviz/other/epoch_00000", [b"{}"], 0, metadata.create_summary_metadata("other_kind", epoch=0)
    ))
    writer.close()
    client, plugin = make_client(str(tmp_path))
    status, runs = get_json(client, "/runs")
    assert status == 200
    assert runs["other"]["has_activations"] is False
    assert runs["other"]["layers"] == [] and runs["other"]["epochs"] == []
    status, body = get_json(client, "/evolution?run=other&over=layers&epoch=0")
    assert status == 404 and "no activations" in body["error"]


def test_a_layer_recorded_in_part_says_so_and_neurons_keep_their_index(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    features = list(range(0, 3000, 100))  # 30 of 3,000 features, as ActivationLogger writes a wide layer.
    info = {"num_points": 60, "class_names": ["a", "b", "c"],
            "layers": [{"name": "wide", "kind": "Dense", "dim": 30, "total_dim": 3000, "features": features,
                        "reduction": "none"}]}
    writer = NnvizWriter(str(tmp_path / "logs" / "run"))
    writer.write_probe(0, info, labels, None)
    writer.write_epoch(0, {"wide": rng.normal(size=(60, 30)) + labels[:, None]}, labels, {"wide": "none"})
    writer.close()
    client = make_client(str(tmp_path / "logs"))[0]
    note = "Layer 'wide' is recorded as 30 of its 3,000 features, evenly spaced"
    status, body = get_json(client, "/projection?run=run&layer=wide&epoch=0")
    assert status == 200 and any(n.startswith(note) for n in body["notes"])
    status, body = get_json(client, "/neurons?run=run&layer=wide&epoch=0")
    assert status == 200 and body["neurons"] == features and body["num_neurons"] == 3000
    assert "30 of 3,000 neurons, sampled (the same ones at every epoch)." in body["notes"]


def test_listed_layers_and_epochs_are_deduplicated_and_capped(client):
    status, body = get_json(client, "/evolution?run=mlp&over=layers&epoch=1&layers=hidden1,hidden2,hidden1,hidden1")
    assert status == 200 and [f["layer"] for f in body["frames"]] == ["hidden1", "hidden2"]
    too_many = ",".join("layer%d" % i for i in range(65))
    status, body = get_json(client, "/evolution?run=mlp&over=layers&epoch=1&layers=" + too_many)
    assert status == 400 and "At most 64 layers or epochs" in body["error"]
    status, body = get_json(client, "/evolution?run=mlp&over=epochs&layer=hidden1&epochs=" + ",".join(["1"] * 100))
    assert status == 200 and [f["epoch"] for f in body["frames"]] == [1]
