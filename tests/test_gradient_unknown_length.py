"""GradientStatsLogger on data of unknown length (a filtered `tf.data.Dataset`, a generator):
the same statistics as the same training on arrays."""

import numpy as np
import pytest
import tensorflow as tf

from test_gradient_stats import fit_logged, reference_model


def unknown_length(x, y, kind):
    if kind == "filter":
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True)
    else:
        signature = (tf.TensorSpec(x.shape[1:], tf.float32), tf.TensorSpec(y.shape[1:], tf.float32))
        dataset = tf.data.Dataset.from_generator(lambda: zip(x, y), output_signature=signature)
    assert dataset.cardinality() == tf.data.UNKNOWN_CARDINALITY
    return dataset.batch(4)


@pytest.mark.parametrize("kind, every_n_steps", [("filter", 16), ("generator", 2), ("filter", 1)])
def test_unknown_length_gives_the_statistics_of_arrays(tmp_path, kind, every_n_steps):
    """Keras calls the training step once more at the end of such data, which stops before
    the gradients exist: that call must not count. `every_n_steps` above the epoch's 4 steps
    is capped after the first epoch, as it is from the start for arrays."""
    model, x, y = reference_model()
    arrays = fit_logged(model, x, y, str(tmp_path / "arrays"), epochs=3, every_n_steps=every_n_steps)
    model, x, y = reference_model()
    unknown = fit_logged(model, unknown_length(x, y, kind), None, str(tmp_path / "unknown"), epochs=3,
                         batch_size=None, every_n_steps=every_n_steps)
    assert sorted(arrays) == sorted(unknown) == [1, 2, 3]
    capped = min(every_n_steps, 4)
    for epoch in (1, 2, 3):
        (a, codes_a, stats_a), (b, codes_b, stats_b) = arrays[epoch], unknown[epoch]
        assert b["steps"] == 4 and b["first_step"] == 4 * (epoch - 1)
        assert b["measured"] == a["measured"] == 4 // capped
        assert b["measured_steps"] == a["measured_steps"] == list(range(4 * (epoch - 1), 4 * epoch, capped))
        assert a["every_n_steps"] == capped
        assert b["every_n_steps"] == (every_n_steps if epoch == 1 else capped)
        for key in ("variable_stats", "layer_stats"):
            assert b[key] == a[key], (epoch, key)  # The same computation: equal to the bit.
        assert b["change_steps"] == a["change_steps"] == (a["measured"] - (epoch == 1))
        np.testing.assert_array_equal(codes_b, codes_a)
        np.testing.assert_array_equal(stats_b, stats_a)
    assert all(v is not None and v > 0 for v in unknown[3][0]["layer_stats"]["grad_norm"])
