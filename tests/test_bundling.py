"""Per-class edge bundling of trails."""

import time
import tracemalloc

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


def test_bends_stay_within_a_lens_around_each_straight_segment(rng):
    """No hubs: a class that hardly moves keeps short, nearly straight trails (the old
    bundling pulled every midpoint to the class's centre, a starburst that looked like data)."""
    labels = np.zeros(500, int)
    still = rng.normal(size=(500, 2)) * 3
    frames = np.stack([still, still + rng.normal(size=(500, 2)) * 0.1, still + 0.2])
    straight = bundling.resample(frames)
    bundled = bundling.bundle(frames, labels)
    samples = bundling.SAMPLES
    t = (np.arange(straight.shape[1]) % samples) / samples
    lengths = np.linalg.norm(np.diff(frames, axis=0), axis=2).T  # [N, F - 1]
    segment = np.minimum(np.arange(straight.shape[1]) // samples, 1)
    limit = bundling.BEND * lengths[:, segment] * np.sin(np.pi * t) + 1e-4
    moved = np.linalg.norm(bundled - straight, axis=2)
    assert np.all(moved <= limit)
    assert moved.max() < 0.3  # Segments of length < 1 in a cluster of width ~12.


def test_trails_of_one_class_in_opposite_directions_form_two_bundles(rng):
    """Only compatible segments attract: two flows of one class, in opposite directions and
    overlapping, bundle each on its own instead of merging into one."""
    labels = np.zeros(400, int)
    going = np.arange(400) < 200
    sign = np.where(going, 1.0, -1.0)[:, None]
    start = sign * [-5.0, 1.0] + rng.normal(size=(400, 2)) * [0.3, 1.5]
    end = sign * [5.0, 1.0] + rng.normal(size=(400, 2)) * [0.3, 1.5]
    middle = bundling.bundle(np.stack([start, end]), labels)[:, bundling.SAMPLES // 2]
    straight = bundling.resample(np.stack([start, end]))[:, bundling.SAMPLES // 2]
    for group in (going, ~going):
        assert middle[group, 1].std() < 0.6 * straight[group, 1].std()
    assert middle[going, 1].mean() > 0.6 and middle[~going, 1].mean() < -0.6


def test_5000_points_by_8_frames_bundle_within_the_documented_bound(rng):
    labels = rng.integers(0, 10, 5000)
    frames = rng.normal(size=(8, 10, 2))[:, labels] * 5 + rng.normal(size=(8, 5000, 2))
    tracemalloc.start()
    start = time.perf_counter()
    bundled = bundling.bundle(frames, labels)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print("bundling 5000 x 8 frames: %.2f s, peak %.1f MB" % (seconds, peak / 1e6))
    assert bundled.shape == (5000, 7 * bundling.SAMPLES + 1, 2)
    np.testing.assert_allclose(bundled[:, :: bundling.SAMPLES], frames.transpose(1, 0, 2), atol=1e-4)
    assert peak < 80e6 and seconds < 30
