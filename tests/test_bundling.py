"""Per-class edge bundling of trails."""

import numpy as np
import pytest

from nnviz_tb.analysis import bundling


def _two_class_frames(rng, n=400, frames=3):
    labels = rng.integers(0, 2, n)
    centres = np.array([[[-3.0, 0.0], [3.0, 0.0]], [[-3.0, 4.0], [3.0, 4.0]], [[0.0, 8.0], [6.0, 8.0]]])[:frames]
    return centres[:, labels] + rng.normal(size=(frames, n, 2)), labels


def test_resample_is_straight_and_passes_through_the_frames(rng):
    frames = rng.normal(size=(3, 5, 2))
    trails = bundling.resample(frames, samples=4)
    assert trails.shape == (5, 9, 2)
    np.testing.assert_allclose(trails[:, ::4], frames.transpose(1, 0, 2))
    np.testing.assert_allclose(trails[:, 2], (frames[0] + frames[1]) / 2)


def test_bundling_keeps_frame_positions_and_gathers_each_class(rng):
    frames, labels = _two_class_frames(rng)
    straight = bundling.resample(frames)
    bundled = bundling.bundle(frames, labels)
    assert bundled.shape == straight.shape
    np.testing.assert_allclose(bundled[:, :: bundling.SAMPLES], straight[:, :: bundling.SAMPLES], atol=1e-5)
    middle = bundling.SAMPLES // 2
    for label in (0, 1):
        members = labels == label
        spread_before = straight[members, middle].std(axis=0).mean()
        spread_after = bundled[members, middle].std(axis=0).mean()
        assert spread_after < 0.5 * spread_before
    # Classes are bundled apart: the two bundles' middles stay far from each other.
    gap = np.linalg.norm(bundled[labels == 0, middle].mean(0) - bundled[labels == 1, middle].mean(0))
    assert gap > 4.0


def test_bundling_rejects_bad_shapes():
    with pytest.raises(ValueError, match="Expected frames"):
        bundling.bundle(np.zeros((1, 3, 2)), [0, 1, 2])
