"""The correlation routes on damaged or malformed CorrelationLogger records: a note or a 4xx, never a 500."""

import functools

import numpy as np
import pytest

from nnviz_tb import metadata
from nnviz_tb.summary import NnvizWriter, write_blobs
from test_correlations import get
from test_plugin_routes import make_client

LAYERS = ["a", "b", "c"]


def _scores(size=3):
    return metadata.encode_array(np.eye(size, dtype=np.float32))


def _cross(epoch, blobs=None, **content):
    fields = dict(epoch=epoch, layers=LAYERS, dims=[4, 4, 4], measures=["cka"], live_features=[4, 4, 4])
    return metadata.correlations_tag(epoch), [_scores()] if blobs is None else blobs, epoch, dict(
        fields, **content), metadata.KIND_CORRELATIONS


def _matrices(epoch, blobs):
    return (metadata.feature_correlations_tag("a", epoch), blobs, epoch,
            dict(epoch=epoch, layer="a", num_features=4, num_points=8), metadata.KIND_FEATURE_CORRELATIONS)


def _variance(epoch, blobs, **content):
    fields = dict(epoch=epoch, layers=LAYERS, threshold=0.01, input_index=0, num_augmentations=4)
    return (metadata.augmentation_variance_tag(epoch), blobs, epoch, dict(fields, **content),
            metadata.KIND_AUGMENTATION_VARIANCE)


def _write(run_dir, records):
    writer = NnvizWriter(str(run_dir))
    for tag, blobs, step, content, kind in records:
        writer.submit(functools.partial(
            write_blobs, tag, blobs, step, metadata.create_summary_metadata(kind, **content)))
    writer.close()


def _matrix_blobs(features=4, samples=8, matrix=None):
    blobs = [None] * 5
    blobs[metadata.FEATURE_MATRIX] = metadata.encode_array(
        np.eye(features, dtype=np.float16) if matrix is None else matrix)
    blobs[metadata.FEATURE_INDICES] = metadata.encode_array(np.arange(features, dtype=np.int32))
    blobs[metadata.SAMPLE_MATRIX] = metadata.encode_array(np.eye(samples, dtype=np.float16))
    blobs[metadata.SAMPLE_INDICES] = metadata.encode_array(np.arange(samples, dtype=np.int32))
    blobs[metadata.SAMPLE_LABELS] = metadata.encode_array(np.zeros(samples, np.int32))
    return blobs


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("damaged_correlations")
    variance = [metadata.encode_array(np.ones((2, 4), np.float32))] * 3
    _write(root / "run", [
        _cross(0),
        _cross(1, blobs=[b"not an array"]),
        _cross(2, blobs=[_scores(2)]),  # 2 x 2 scores for 3 layers.
        _cross(3, live_features="4"),  # Ill-typed: skipped from the listing.
        _cross(4, live_features=[4, 4]),  # One count short.
        _cross(5),
        _matrices(0, _matrix_blobs()),
        _matrices(1, [b"\x93NUMPY garbage"] * 5),
        _matrices(2, _matrix_blobs(matrix=np.ones((4, 3), np.float16))),
        _variance(0, variance),
        _variance(1, variance[:2] + [metadata.encode_array(np.array([[1, np.inf]] * 2, np.float32))]),
        _variance(2, variance, threshold="0.01"),
    ])
    return make_client(str(root))[0]


def test_malformed_records_are_skipped_with_notes(client):
    status, runs = get(client, "/runs")
    summary = runs["run"]["correlations"]
    assert status == 200 and summary["epochs"] == [0, 1, 2, 5]
    assert summary["augmentation_epochs"] == [0, 1]
    notes = " ".join(summary["notes"])
    for tag in (metadata.correlations_tag(3), metadata.correlations_tag(4), metadata.augmentation_variance_tag(2)):
        assert repr(tag) in notes
    assert "'live_features' must be a count per layer" in notes and "'threshold' must be a number > 0" in notes


def test_undecodable_or_misshapen_epochs_are_left_out_of_the_layer_pairs(client):
    status, body = get(client, "/correlations?run=run&measure=cka")
    assert status == 200 and body["epochs"] == [0, 5]
    assert body["matrices"][0] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert len(body["notes"]) == 2
    assert body["notes"][0].startswith("Epoch 1 skipped: Corrupt data") and "'run'" in body["notes"][0]
    assert "shape [2, 2] instead of [3, 3]" in body["notes"][1]


@pytest.mark.parametrize("path, message", [
    ("/feature_correlations?run=run&layer=a&epoch=1", "Invalid nnviz array payload"),
    ("/feature_correlations?run=run&layer=a&epoch=2", "a 4x3 matrix"),
    ("/augmentation_variance?run=run&epoch=1", "infinite values"),
])
def test_damaged_records_answer_422_naming_run_and_tag(client, path, message):
    status, body = get(client, path)
    assert status == 422 and message in body["error"]
    assert "'run'" in body["error"] and "nnviz/" in body["error"]


def test_old_files_internal_sampling_names_are_served_in_words(tmp_path):
    def old_matrices(layer, features, samples):
        tag, blobs, step, content, kind = _matrices(0, _matrix_blobs())
        content.update(layer=layer, feature_sampling=features, sample_sampling=samples)
        return metadata.feature_correlations_tag(layer, 0), blobs, step, content, kind

    _write(tmp_path / "old", [_cross(0), old_matrices("a", "evenly_spaced(256)", "class_balanced(256)"),
                              old_matrices("b", "a rule of a later version", 7)])
    client = make_client(str(tmp_path))[0]
    answers = {(layer, over): get(client, "/feature_correlations?run=old&layer=%s&epoch=0&over=%s" % (layer, over))
               for layer in "ab" for over in ("features", "samples")}
    assert {key: status for key, (status, _) in answers.items()} == dict.fromkeys(answers, 200)
    assert answers["a", "features"][1]["sampling"] == "evenly spaced"
    assert answers["a", "samples"][1]["sampling"] == "balanced across classes"
    assert answers["b", "features"][1]["sampling"] == "a rule of a later version"
    assert answers["b", "samples"][1]["sampling"] is None


def test_good_records_of_the_same_run_are_served(client):
    status, body = get(client, "/feature_correlations?run=run&layer=a&epoch=0&over=samples")
    assert status == 200 and len(body["matrix"]) == 8
    status, body = get(client, "/augmentation_variance?run=run&epoch=0")
    assert status == 200 and [layer["invariant_fraction"] for layer in body["layers"]] == [0.0] * 3
    assert get(client, "/augmentation_variance?run=run&epoch=2")[0] == 404
