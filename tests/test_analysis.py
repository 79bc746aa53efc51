"""Neighborhood hit, projections and their alignment."""

import numpy as np
import pytest

from nnviz_tb.analysis import metrics, projection


def brute_force_neighborhood_hit(points, labels, k):
    distances = np.linalg.norm(points[:, None] - points[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    hits = []
    for i in range(len(points)):
        neighbours = np.argsort(distances[i], kind="stable")[:k]
        hits.append(np.mean(labels[neighbours] == labels[i]))
    return float(np.mean(hits))


@pytest.mark.parametrize("k", [1, 6, 10])
def test_neighborhood_hit_matches_brute_force(rng, k):
    points = rng.normal(size=(300, 2))
    labels = rng.integers(0, 4, size=300)
    points[labels == 1] += 2.0  # Some structure, so the value is not ~0.25.
    assert metrics.neighborhood_hit(points, labels, k) == pytest.approx(
        brute_force_neighborhood_hit(points, labels, k)
    )


def test_neighborhood_hit_extremes(rng):
    separated = np.concatenate([rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 100])
    labels = np.repeat([0, 1], 50)
    assert metrics.neighborhood_hit(separated, labels) == 1.0
    # Each point's only neighbour has the other label.
    assert metrics.neighborhood_hit(np.array([[0, 0], [0, 1], [9, 9], [9, 8]]), [0, 1, 0, 1], k=1) == 0.0
    assert metrics.neighborhood_hit(np.zeros((1, 2)), [3]) == 1.0
    assert metrics.neighborhood_hit(np.zeros((3, 2)), [0, 0, 1], k=6) == pytest.approx(1 / 3)


def test_neighborhood_hit_with_duplicate_points():
    points = np.zeros((10, 2))
    labels = np.array([0] * 5 + [1] * 5)
    assert 0.0 <= metrics.neighborhood_hit(points, labels, k=6) <= 1.0


@pytest.mark.parametrize("method", projection.METHODS)
def test_projection_separates_clusters(rng, method):
    labels = np.repeat(np.arange(3), 60)
    centres = rng.normal(size=(3, 20)) * 10
    data = centres[labels] + rng.normal(size=(180, 20))
    seen = []
    points = projection.project(data, method, progress=seen.append)
    assert points.shape == (180, 2) and points.dtype == np.float32
    assert metrics.neighborhood_hit(points, labels) > 0.95
    assert seen[-1] == 1.0
    np.testing.assert_allclose(points.mean(axis=0), 0, atol=1e-5)
    assert np.sqrt((points**2).sum(axis=1).mean()) == pytest.approx(1, rel=1e-4)
    np.testing.assert_array_equal(points, projection.project(data, method))  # Deterministic.


def test_projection_of_constant_or_non_finite_data():
    assert not projection.project(np.ones((20, 5)), "tsne").any()
    data = np.arange(40, dtype=float).reshape(20, 2)
    data[3, 1] = np.nan
    data[4, 0] = np.inf
    assert np.isfinite(projection.project(data, "pca")).all()
    with pytest.raises(ValueError, match="Unknown projection method"):
        projection.project(data, "umap")


def test_canonical_orientation_ignores_rotation_and_reflection(rng):
    points = rng.gamma(2.0, size=(200, 2)) * [3.0, 1.0]
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (points @ rotation) * [-1, 1] * 5 + 3
    np.testing.assert_allclose(projection.canonical(points), projection.canonical(moved), atol=1e-4)


def test_align_recovers_a_rotation(rng):
    reference = projection.canonical(rng.normal(size=(100, 2)))
    angle = 2.0
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    np.testing.assert_allclose(projection.align(reference @ rotation, reference), reference, atol=1e-5)
    frames = projection.align_sequence([reference, reference @ rotation, -reference])
    for frame in frames:
        np.testing.assert_allclose(frame, reference, atol=1e-5)


def test_tsne_started_from_the_neighbouring_frame_keeps_trails_short(rng):
    labels = np.repeat(np.arange(5), 40)
    before = rng.normal(size=(5, 30))[labels] * 4 + rng.normal(size=(200, 30))
    after = before + rng.normal(size=before.shape)  # The next epoch: some change,
    after[labels == 0] += 3  # and one class moves away.
    first = projection.project(before, "tsne")
    independent = projection.align(projection.project(after, "tsne"), first)
    started = projection.align(projection.project(after, "tsne", init=first), first)
    trail = lambda frame: np.linalg.norm(frame - first, axis=1).mean()
    assert trail(started) < 0.5 * trail(independent)
    assert metrics.neighborhood_hit(started, labels) > 0.9
