"""The nnviz summary format: metadata, tags and array encoding."""

import subprocess
import sys

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2

from nnviz_tb import metadata, metadata_checks


def test_summary_metadata_sets_plugin_and_data_class():
    meta = metadata.create_summary_metadata(metadata.KIND_ACTIVATIONS, layer="d", epoch=3)
    assert meta.plugin_data.plugin_name == "nnviz"
    assert meta.data_class == summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    content = metadata_checks.parse_plugin_content(meta.plugin_data.content)
    assert content == {"kind": "activations", "layer": "d", "epoch": 3, "version": 1}


@pytest.mark.parametrize("content", [b"", b"\xff\xfe", b"[1, 2]", b'{"no": "kind"}', b'{"kind": "x", "version": 99}'])
def test_unreadable_or_newer_content_is_skipped(content):
    assert metadata_checks.parse_plugin_content(content) is None


def test_tags_sort_by_epoch():
    assert metadata.activations_tag("dense", 7) == "nnviz/activations/dense/epoch_00007"
    assert metadata.predictions_tag(12) < metadata.predictions_tag(100)


def test_arrays_round_trip_without_pickles():
    array = np.arange(12, dtype=np.int32).reshape(3, 4)
    np.testing.assert_array_equal(metadata.decode_array(metadata.encode_array(array)), array)
    with pytest.raises(ValueError):
        metadata.decode_array(metadata.encode_array(np.array([{"a": 1}], dtype=object)))
    with pytest.raises(ValueError):
        metadata.decode_array(b"not an array")


def test_activations_are_float16_unless_they_overflow():
    small = np.array([[1.5, -2.0, np.nan]], np.float32)
    decoded = metadata.decode_array(metadata.encode_activations(small))
    assert decoded.dtype == np.float16
    np.testing.assert_array_equal(decoded, small)
    big = np.array([[1e6, 1.0]], np.float32)
    assert metadata.decode_array(metadata.encode_activations(big)).dtype == np.float32


def test_plugin_backend_does_not_import_tensorflow():
    code = (
        "import sys, nnviz_tb, nnviz_tb.plugin.nnviz_plugin;"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported';"
        "assert 'keras' not in sys.modules, 'keras imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_float16_choice_looks_at_every_chunk_and_ignores_non_finite_values():
    array = np.ones((64, 1000), np.float32)
    array[0, 0], array[1, 1] = np.inf, np.nan
    assert metadata._finite_peak(array, chunk_values=1000) == 1.0
    array[63, 999] = 1e5  # In the last chunk of one row each.
    assert metadata._finite_peak(array, chunk_values=1000) == 1e5
    assert metadata.decode_array(metadata.encode_activations(array)).dtype == np.float32
