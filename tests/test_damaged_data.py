"""Damaged and malformed summaries: a 4xx or a note naming the run and tag, never a 500,
and the readable rest (the good run beside the bad one) served as usual."""

import dataclasses
import json
import tracemalloc

import numpy as np
import pytest

from nnviz_tb import metadata
from nnviz_tb.analysis import sequence
from damaged_runs import activations_summary, content, good_run, probe_summary, replaced, write_run
from test_plugin_routes import get_json, make_client

GOOD_PATH = "/projection?run=good&layer=a&epoch=1&method=pca"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNVIZ_TB_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def serve(tmp_path, bad):
    """A client of a log dir holding `good` (a healthy run) and `bad` (the `bad` summaries)."""
    write_run(tmp_path / "logs" / "good", good_run()[0])
    write_run(tmp_path / "logs" / "bad", bad)
    client, _ = make_client(str(tmp_path / "logs"))
    return client


def assert_good_run_served(client):
    status, runs = get_json(client, "/runs")
    assert status == 200
    assert runs["good"]["layers"] == ["a", "b"] and runs["good"]["epochs"] == [0, 1]
    assert runs["good"]["problems"] == []
    status, body = get_json(client, GOOD_PATH)
    assert status == 200 and np.array(body["points"]).shape == (40, 2) and body["notes"] == []
    return runs


ACTIVATIONS_A1 = metadata.activations_tag("a", 1)


@pytest.mark.parametrize("blob", [b"garbage", b"", metadata.encode_array(np.zeros((40, 5)))[:100]])
def test_a_damaged_npy_blob_is_a_422_naming_run_and_tag(tmp_path, blob):
    client = serve(tmp_path, replaced(good_run()[0], ACTIVATIONS_A1, blobs=[blob]))
    for path in ("/projection?run=bad&layer=a&epoch=1", "/evolution?run=bad&over=epochs&layer=a",
                 "/neurons?run=bad&layer=a&epoch=1", "/discriminative?run=bad&layer=a&epoch=1"):
        status, body = get_json(client, path)
        assert status == 422, path
        assert "'bad'" in body["error"] and ACTIVATIONS_A1 in body["error"]
    assert get_json(client, "/projection?run=bad&layer=a&epoch=0")[0] == 200
    assert_good_run_served(client)


def test_a_damaged_probe_lists_the_run_with_a_problem(tmp_path):
    client = serve(tmp_path, replaced(good_run()[0], metadata.PROBE_TAG, blobs=[b"{}", b"not npy", b""]))
    runs = assert_good_run_served(client)
    assert runs["bad"]["has_activations"] is False and runs["bad"]["layers"] == []
    (problem,) = runs["bad"]["problems"]
    assert "'bad'" in problem and metadata.PROBE_TAG in problem and "not shown" in problem
    status, body = get_json(client, "/projection?run=bad&layer=a&epoch=0")
    assert status == 422 and metadata.PROBE_TAG in body["error"]


@pytest.mark.parametrize(
    "bad_content, reason",
    [
        (content(metadata.KIND_ACTIVATIONS, epoch=1), "has no 'layer'"),
        (content(metadata.KIND_ACTIVATIONS, layer=["a"], epoch=1), "'layer' must be a non-empty string"),
        (content(metadata.KIND_ACTIVATIONS, layer="a", epoch="1"), "'epoch' must be a non-negative integer"),
        (content(metadata.KIND_ACTIVATIONS, layer="a", epoch=-1), "'epoch' must be a non-negative integer"),
        (b'{"kind": "activations", "layer": "a", "epoch": 1, "version": "1"}', "'version' must be"),
        (b'["activations"]', "a JSON list, not an object"),
        (b'{"kind": "activations", "layer": "a", "epoch": 1', "not UTF-8 JSON"),
        (b'{"kind": "activations", "layer": "a", "epoch": 1, "version": 7}', "a newer nnviz_tb wrote it"),
    ],
)
def test_a_malformed_record_is_skipped_and_reported_and_the_rest_served(tmp_path, bad_content, reason):
    client = serve(tmp_path, replaced(good_run()[0], ACTIVATIONS_A1, content=bad_content))
    runs = assert_good_run_served(client)
    (problem,) = runs["bad"]["problems"]
    assert ACTIVATIONS_A1 in problem and reason in problem
    assert runs["bad"]["epochs"] == [0, 1]  # Layer b still has epoch 1.
    assert get_json(client, "/projection?run=bad&layer=b&epoch=1")[0] == 200
    assert get_json(client, "/projection?run=bad&layer=a&epoch=1")[0] == 404


def test_malformed_probe_fields_are_dropped_with_a_note(tmp_path):
    summaries, labels = good_run()
    info = {"num_points": 40, "class_names": 4, "layers": [{"dim": 5}, {"name": "b"}]}
    client = serve(tmp_path, replaced(summaries, metadata.PROBE_TAG, blobs=probe_summary(info, labels).blobs))
    runs = assert_good_run_served(client)
    assert runs["bad"]["class_names"] == ["0", "1", "2", "3"]
    assert runs["bad"]["layers"] == ["b", "a"]  # The described layer first, then the others.
    assert len(runs["bad"]["problems"]) == 2 and "class_names must be a list of strings" in runs["bad"]["problems"][0]
    probe_list = replaced(summaries, metadata.PROBE_TAG, blobs=[b"[1, 2]"] + probe_summary(info, labels).blobs[1:])
    write_run(tmp_path / "logs" / "listed", probe_list)
    status, runs = get_json(make_client(str(tmp_path / "logs"))[0], "/runs")
    assert status == 200 and "a JSON list, not an object" in runs["listed"]["problems"][0]


def npy_claiming(shape, dtype="<f4"):
    """A `.npy` payload whose header claims `shape` but that holds 16 bytes."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (dtype, shape)
    header += " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(16)


@pytest.mark.parametrize(
    "values, reason",
    [
        (np.zeros((39, 5), np.float32), "39 rows but the probe has 40 points"),
        (np.zeros(40, np.float32), "2-D array"),
        (np.zeros((40, 5, 2), np.float32), "2-D array"),
        (np.array([["x"] * 5] * 40), "2-D array of numbers"),
        (np.zeros((40, 0), np.float32), "non-empty"),
        (np.zeros((40, 5), np.complex64), "of numbers"),
        (npy_claiming((10**12, 5)), "header claims"),
    ],
)
def test_activations_of_the_wrong_shape_or_dtype_are_a_422(tmp_path, values, reason):
    client = serve(tmp_path, [*good_run()[0], activations_summary("a", 2, values)])
    status, body = get_json(client, "/projection?run=bad&layer=a&epoch=2")
    assert status == 422 and reason in body["error"] and metadata.activations_tag("a", 2) in body["error"]
    assert get_json(client, "/projection?run=bad&layer=a&epoch=1")[0] == 200
    assert_good_run_served(client)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8])
def test_activations_of_other_real_dtypes_are_served(tmp_path, dtype):
    values = (np.arange(40)[:, None] % 4 * np.ones((1, 5)) + np.random.default_rng(0).random((40, 5))) * 10
    client = serve(tmp_path, [*good_run()[0], activations_summary("a", 2, values.astype(dtype))])
    status, body = get_json(client, "/projection?run=bad&layer=a&epoch=2")
    assert status == 200 and np.isfinite(body["points"]).all() and body["neighborhood_hit"] > 0.5


def test_a_header_claiming_a_trillion_rows_allocates_nothing():
    tracemalloc.start()
    with pytest.raises(ValueError, match="header claims"):
        metadata.decode_array(npy_claiming((10**12, 1000)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1e6


def test_bad_thumbnails_labels_and_predictions_are_notes(tmp_path):
    summaries, labels = good_run()
    info = {"num_points": 41, "class_names": ["c0", "c1", "c2", "c3"]}
    bad = replaced(summaries, metadata.PROBE_TAG, blobs=probe_summary(info, labels, np.zeros((40, 8), np.uint8)).blobs)
    bad = replaced(bad, metadata.predictions_tag(1), blobs=[metadata.encode_array(np.zeros(3, np.int32))])
    client = serve(tmp_path, bad)
    runs = assert_good_run_served(client)
    assert runs["bad"]["has_thumbnails"] is False and runs["bad"]["num_points"] == 40
    problems = " ".join(runs["bad"]["problems"])
    assert "says 41 points but 40 labels" in problems and "Thumbnails not shown" in problems
    status, body = get_json(client, "/projection?run=bad&layer=a&epoch=1")
    assert status == 200 and body["predictions"] is None
    assert "predictions must be 40 integers" in body["notes"][0]
    assert get_json(client, "/thumbnails?run=bad")[0] == 404


@pytest.mark.parametrize("labels", [np.zeros((40, 1), np.int32), np.full(40, -1, np.int32), np.zeros(40, np.float32)])
def test_unusable_labels_make_the_run_a_note(tmp_path, labels):
    summaries, _ = good_run()
    client = serve(tmp_path, replaced(summaries, metadata.PROBE_TAG, blobs=probe_summary({}, labels).blobs))
    runs = assert_good_run_served(client)
    assert runs["bad"]["has_activations"] is False and "labels must" in runs["bad"]["problems"][0]


def test_huge_finite_activations_project_as_the_unscaled_ones(tmp_path):
    summaries, _ = good_run()
    values = metadata.decode_array(summaries[1].blobs[0])  # Layer a, epoch 0.
    client = serve(tmp_path, [*summaries, activations_summary("a", 5, values * np.float32(3e37))])
    for method in ("pca", "tsne"):
        _, plain = get_json(client, "/projection?run=bad&layer=a&epoch=0&method=" + method)
        status, huge = get_json(client, "/projection?run=bad&layer=a&epoch=5&method=" + method)
        assert status == 200 and huge["notes"] == []
        if method == "pca":
            np.testing.assert_allclose(huge["points"], plain["points"], atol=2e-3)
        else:  # Epoch 5 starts from epoch 1's layout: as the unscaled values would from there.
            _, parent = get_json(client, "/projection?run=bad&layer=a&epoch=1&method=tsne")
            unscaled = sequence.tsne_frame(values, init=np.array(parent["points"]),
                                           parent_data=metadata.decode_array(summaries[4].blobs[0]))
            assert np.isfinite(huge["points"]).all()
            np.testing.assert_allclose(huge["points"], unscaled, atol=0.02)  # The parent is rounded to 1e-4.


def test_infinite_and_nan_activations_are_drawn_as_zero_with_a_note(tmp_path):
    summaries, _ = good_run()
    values = metadata.decode_array(summaries[1].blobs[0]).copy()
    values[0, 0], values[1, 2], values[2, 3] = np.inf, -np.inf, np.nan
    client = serve(tmp_path, [*summaries, activations_summary("a", 5, values)])
    for path in ("/projection?run=bad&layer=a&epoch=5", "/neurons?run=bad&layer=a&epoch=5",
                 "/neurons?run=bad&layer=a&epoch=5&method=tsne", "/discriminative?run=bad&layer=a&epoch=5"):
        status, body = get_json(client, path)
        assert status == 200, path
        assert body["notes"] == ["3 NaN or infinite activation values of layer 'a' at epoch 5 are drawn as 0."]
    status, body = get_json(client, "/neurons?run=bad&layer=a&epoch=5")
    assert all(p is not None and np.isfinite(p).all() for p in body["points"])


def test_sparse_class_ids_are_compacted(tmp_path):
    summaries, labels = good_run()
    sparse = labels * 100_000
    info = {"num_points": 40, "class_names": [str(i) for i in range(sparse.max() + 1)]}
    bad = replaced(summaries, metadata.PROBE_TAG, blobs=probe_summary(info, sparse).blobs)
    bad = replaced(bad, metadata.predictions_tag(0), blobs=[metadata.encode_array(sparse)])
    bad = replaced(bad, metadata.predictions_tag(1), blobs=[metadata.encode_array(sparse + 1)])
    client = serve(tmp_path, bad)
    response = client.get("/data/plugin/nnviz/runs")
    assert len(response.get_data()) < 5000
    runs = json.loads(response.get_data())
    assert runs["bad"]["class_names"] == ["0", "100000", "200000", "300000"]
    assert "sparse (4 of up to 300001 used)" in runs["bad"]["problems"][0]
    _, body = get_json(client, "/projection?run=bad&layer=a&epoch=0")
    assert body["labels"] == labels.tolist() and body["predictions"] == labels.tolist()
    _, body = get_json(client, "/projection?run=bad&layer=a&epoch=1")
    assert body["predictions"] == [-1] * 40  # Ids 1, 100001, ... name no class of the probe.
    status, body = get_json(client, "/discriminative?run=bad&layer=a&epoch=0")
    assert status == 200 and np.array(body["importance"]).shape == (5, 4)


def test_a_layer_of_100000_neurons_is_sampled_to_2000(tmp_path):
    summaries, labels = good_run()
    wide = (np.random.default_rng(3).normal(size=(40, 100_000)) + labels[:, None]).astype(np.float16)
    client = serve(tmp_path, [*summaries, activations_summary("wide", 0, wide)])
    tracemalloc.start()
    status, body = get_json(client, "/neurons?run=bad&layer=wide&epoch=0")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert status == 200 and peak < 2**28  # The full dissimilarity matrix would take 75 GiB.
    assert len(body["points"]) == len(body["neurons"]) == 2000 and body["num_neurons"] == 100_000
    assert body["neurons"] == sorted(set(body["neurons"])) and body["neurons"][-1] < 100_000
    assert body["notes"] == ["2,000 of 100,000 neurons, sampled (the same ones at every epoch)."]
    status, scores = get_json(client, "/discriminative?run=bad&layer=wide&epoch=0")
    assert status == 200 and scores["neurons"] == body["neurons"] and len(scores["best_class"]) == 2000


def test_problems_per_run_are_capped(tmp_path):
    summaries, _ = good_run()
    broken = [activations_summary("x%d" % i, 0, np.zeros((40, 5), np.float32)) for i in range(30)]
    client = serve(tmp_path, summaries + [dataclasses.replace(s, content=b"{}") for s in broken])
    runs = assert_good_run_served(client)
    assert len(runs["bad"]["problems"]) == 20 and runs["bad"]["problems"][-1] == "... and 11 more problems."
    assert runs["bad"]["layers"] == ["a", "b"]
