"""GradientTracker's flat layout: statistics worked out chunk by chunk equal the reference."""

import numpy as np
import pytest

from nnviz_tb.callbacks import gradient_tracking
from test_gradient_stats import assert_matches, fit_logged, reference_model, reference_records, tape_steps


@pytest.mark.parametrize("chunk", [1, 3])
def test_statistics_worked_out_in_chunks_equal_a_gradient_tape_reference(tmp_path, monkeypatch, chunk):
    """The reference model's 4 variables take 4 blocks: chunks of 1 block, or of 3 (then 2
    padding blocks)."""
    monkeypatch.setattr(gradient_tracking._Blocks, "CHUNK", chunk)
    layout = gradient_tracking._Blocks([9, 3, 3, 1])
    assert layout.padded_size == (4 if chunk == 1 else 6) * layout.BLOCK
    model, x, y = reference_model()
    initial = [v.numpy() for v in model.trainable_variables]
    records = fit_logged(model, x, y, str(tmp_path), epochs=2, every_n_steps=2)
    for v, value in zip(model.trainable_variables, initial):
        v.assign(value)
    expected = reference_records(tape_steps(model, x, y, epochs=2, batch_size=4), 4, 2,
                                 [("h", [0, 1], (0, 1)), ("out", [2, 3], None)])
    for epoch, reference in enumerate(expected, start=1):
        assert records[epoch][0]["measured"] == 2
        assert_matches(records[epoch][0], reference)
    assert records[1][0]["layer_stats"]["dead_units"][0] == 1
    assert np.isfinite(records[2][0]["layer_stats"]["weight_change"]).all()
