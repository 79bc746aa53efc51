"""The gradient routes on damaged or malformed summaries: a 422 naming run and tag, or the
epoch left out with a note; never a 500."""

import copy
import json

import numpy as np
import pytest

from nnviz_tb import metadata
from nnviz_tb.summary import NnvizWriter, write_blobs
from test_gradient_stats import fit_logged, reference_model
from test_plugin_routes import ROUTE, get_json, make_client


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """`{epoch: (record, codes, step stats)}` of a real 2-epoch run."""
    model, x, y = reference_model()
    return fit_logged(model, x, y, str(tmp_path_factory.mktemp("good")), epochs=2, every_n_steps=1,
                      heatmap_weights=5)


def write_run(run_dir, epochs):
    """Writes `{epoch: [blobs]}` as gradient summaries (blobs: a record dict or raw values)."""
    writer = NnvizWriter(run_dir)
    for epoch, blobs in epochs.items():
        encoded = [metadata.encode_json(b) if isinstance(b, dict) else
                   b if isinstance(b, bytes) else metadata.encode_array(b) for b in blobs]
        summary_metadata = metadata.create_summary_metadata(
            metadata.KIND_GRADIENT_STATS, epoch=epoch, layers=["h", "out"])
        writer.submit(lambda tag=metadata.gradient_stats_tag(epoch), e=epoch, blobs=encoded, m=summary_metadata:
                      write_blobs(tag, blobs, e, m))
    writer.close()


def broken(good, change):
    """Epoch 2 of `good`, its `[record, codes, step stats]` changed in place by `change`."""
    blobs = [copy.deepcopy(good[2][0]), good[2][1].copy(), good[2][2].copy()]
    change(blobs)
    return blobs


def drop(key):
    return lambda blobs: blobs[0].pop(key)


def setter(*path_and_value):
    *path, value = path_and_value

    def change(blobs):
        item = blobs[0]
        for key in path[:-1]:
            item = item[key]
        item[path[-1]] = value
    return change


def replace_blob(index, value):
    def change(blobs):
        blobs[index] = value
    return change


# Damage the record shows: the epoch is left out of the statistics.
RECORD_CASES = {
    "missing field": drop("layers"),
    "ill-typed steps": setter("steps", "4"),
    "negative epoch": setter("epoch", -2),
    "layer without a name": setter("layers", [{"size": 12, "variables": [0, 1], "units": 3}]),
    "layer naming a missing variable": setter("layers", 0, "variables", [0, 9]),
    "stat list too short": setter("layer_stats", "zero_fraction", [0.5]),
    "stat list of strings": setter("variable_stats", "grad_norm", ["a", "b", "c", "d"]),
    "non-finite statistic": setter("layer_stats", "grad_norm", [float("nan"), 1.0]),
    "heatmap without layers": setter("heatmap", "layers", []),
    "labels and columns differ": setter("heatmap", "layers", 0, "weights", ["h/kernel[0, 0]"]),
    "not JSON": replace_blob(0, b"\xff{"),
    "JSON list": replace_blob(0, b"[1, 2]"),
    "two blobs": lambda blobs: blobs.pop(),
}
# Damage only the arrays show (read by the sign route alone).
ARRAY_CASES = {
    "column past the codes": setter("heatmap", "layers", 0, "columns", [0, 1, 2, 3, 99]),
    "codes of floats": replace_blob(1, np.full((4, 10), np.nan)),
    "codes out of range": replace_blob(1, np.full((4, 10), 200, np.uint8)),
    "codes 1-D": replace_blob(1, np.zeros(10, np.uint8)),
    "step stats of the wrong shape": replace_blob(2, np.zeros((4, 5, 2), np.float32)),
    "not npy": replace_blob(2, b"garbage"),
}
CASES = {**RECORD_CASES, **ARRAY_CASES}


@pytest.fixture(scope="module")
def client(good, tmp_path_factory):
    """Run `case<i>`: epoch 1 good, epoch 2 broken as `CASES[i]`; run `only<i>`: epoch 2 alone."""
    root = tmp_path_factory.mktemp("corrupt")
    for i, change in enumerate(CASES.values()):
        blobs = broken(good, change)
        write_run(str(root / ("case%d" % i)), {1: list(good[1]), 2: blobs})
        write_run(str(root / ("only%d" % i)), {2: blobs})
    return make_client(str(root))[0]


@pytest.mark.parametrize("index", range(len(RECORD_CASES)), ids=list(RECORD_CASES))
def test_a_corrupt_epoch_is_left_out_with_a_note_or_answered_422(client, good, index):
    tag = metadata.gradient_stats_tag(2)
    status, body = get_json(client, "/gradients?run=case%d" % index)
    assert status == 200
    assert body["epochs"] == [1] and body["layers"] == ["h", "out"]
    assert body["layer_stats"]["zero_count"][0] == [good[1][0]["layer_stats"]["zero_count"][0]]
    assert len(body["problems"]) == 1
    assert repr(tag) in body["problems"][0] and "'case%d'" % index in body["problems"][0]

    for path in ("/gradients?run=only%d" % index, "/gradient_signs?run=case%d&layer=h&epoch=2" % index):
        status, body = get_json(client, path)
        assert status == 422, path
        assert "corrupt" in body["error"].lower() and repr(tag) in body["error"]
    response = client.get(ROUTE + "/gradients?run=only%d&format=csv" % index)
    assert response.status_code == 422 and "error" in json.loads(response.get_data())


@pytest.mark.parametrize("index", range(len(RECORD_CASES), len(CASES)), ids=list(ARRAY_CASES))
def test_corrupt_arrays_answer_the_sign_route_422(client, index):
    tag = metadata.gradient_stats_tag(2)
    status, body = get_json(client, "/gradients?run=case%d" % index)
    assert status == 200 and body["epochs"] == [1, 2] and body["problems"] == []
    status, body = get_json(client, "/gradient_signs?run=case%d&layer=h&epoch=2" % index)
    assert status == 422 and repr(tag) in body["error"] and "'case%d'" % index in body["error"]


def test_good_epochs_answer_the_sign_route_and_no_problems(client, good):
    status, body = get_json(client, "/gradient_signs?run=case0&layer=h&epoch=1")
    assert status == 200 and len(body["steps"]) == len(good[1][0]["heatmap"]["steps"]) == 4
    status, body = get_json(client, "/runs")
    assert status == 200 and body["case0"]["gradients"]["epochs"] == [1, 2]


def test_nan_step_statistics_of_a_diverged_step_read_as_null(tmp_path, good):
    """NaN gradients (training that diverged) are data, not damage."""
    blobs = broken(good, lambda b: b[2].__setitem__((0, slice(None), 1), np.nan))
    write_run(str(tmp_path / "nan"), {2: blobs})
    status, body = get_json(make_client(str(tmp_path))[0], "/gradient_signs?run=nan&layer=h&epoch=2")
    assert status == 200 and body["grad_norm"][0] is None and body["grad_norm"][1] is not None
