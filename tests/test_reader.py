"""Reading recorded runs back without TensorBoard's server."""

import numpy as np
import pytest

from nnviz_tb import reader
from conftest import digits


def test_read_run_returns_what_was_recorded(digits_logdir):
    run = reader.read_run(digits_logdir + "/mlp")
    _, y = digits()
    np.testing.assert_array_equal(run.labels, y[:500])
    assert run.class_names == [str(i) for i in range(10)]
    assert [layer["name"] for layer in run.layers] == ["hidden1", "hidden2", "output"]
    assert sorted(run.activations["hidden2"]) == [0, 1, 2, 3]
    assert run.activations["hidden2"][3].shape == (500, 16)
    assert sorted(run.predictions) == [0, 1, 2, 3]


def test_read_run_without_nnviz_data(tmp_path):
    with pytest.raises(ValueError, match="No nnviz probe summary"):
        reader.read_run(str(tmp_path))


@pytest.mark.parametrize("read", [reader.read_run, reader.read_correlations, reader.read_gradient_stats])
def test_a_missing_directory_is_a_value_error(tmp_path, read):
    with pytest.raises(ValueError, match="No run directory"):
        read(str(tmp_path / "missing"))


def test_read_run_skips_malformed_records_with_a_warning_and_names_damaged_ones(tmp_path, caplog):
    from nnviz_tb import metadata
    from damaged_runs import good_run, replaced, write_run

    summaries, labels = good_run()
    malformed = replaced(summaries, metadata.activations_tag("a", 1), content=b'{"kind": "activations", "epoch": 1}')
    write_run(tmp_path / "malformed", malformed)
    run = reader.read_run(str(tmp_path / "malformed"))
    assert sorted(run.activations["a"]) == [0] and sorted(run.activations["b"]) == [0, 1]
    np.testing.assert_array_equal(run.labels, labels)
    assert "has no 'layer'" in caplog.text and metadata.activations_tag("a", 1) in caplog.text
    write_run(tmp_path / "damaged", replaced(summaries, metadata.activations_tag("b", 0), blobs=[b"garbage"]))
    with pytest.raises(ValueError, match="'nnviz/activations/b/epoch_00000' of .*damaged cannot be read"):
        reader.read_run(str(tmp_path / "damaged"))
