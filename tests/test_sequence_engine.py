"""The t-SNE sequence engine (chained frames), the joint PCA view and the coherence metrics."""

import time
import weakref

import numpy as np
import pytest
from sklearn.decomposition import PCA

from nnviz_tb.analysis import coherence, joint_pca, sequence
from nnviz_tb.analysis.metrics import neighborhood_hit
from nnviz_tb.datasets import load_digits_dataset


def clusters(rng, n=200, d=20, k=4, spread=6.0):
    labels = np.arange(n) % k
    return rng.normal(size=(k, d))[labels] * spread + rng.normal(size=(n, d)), labels


def test_tsne_frame_is_deterministic_for_a_seed(rng):
    data, labels = clusters(rng)
    first = sequence.tsne_frame(data, seed=0)
    assert first.shape == (200, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first, sequence.tsne_frame(data, seed=0))
    assert not np.array_equal(first, sequence.tsne_frame(data, seed=1))
    assert neighborhood_hit(first, labels) > 0.95
    np.testing.assert_allclose(first.mean(axis=0), 0, atol=1e-5)
    assert np.sqrt((first**2).sum(axis=1).mean()) == pytest.approx(1, rel=1e-4)


def test_warm_frame_keeps_the_parent_orientation(rng):
    data, labels = clusters(rng)
    root = sequence.tsne_frame(data)
    warm = sequence.tsne_frame(data + 0.05 * rng.normal(size=data.shape), init=root)
    assert coherence.mean_displacement([root, warm]) < 0.1
    assert np.sqrt((warm**2).sum(axis=1).mean()) == pytest.approx(1, rel=1e-4)
    # Rotating the parent rotates the warm frame with it: no re-canonicalisation.
    turned = root @ np.array([[0.0, -1.0], [1.0, 0.0]])
    warm_turned = sequence.tsne_frame(data, init=turned)
    assert coherence.mean_displacement([turned, warm_turned]) < 0.1
    assert neighborhood_hit(warm_turned, labels) > 0.95


def test_points_that_move_in_the_data_move_more_in_the_plot_with_the_parent_data(rng):
    data, labels = clusters(rng, n=400)
    root = sequence.tsne_frame(data)
    moving = labels < 2  # Two clusters rearrange in the data, two stay exactly where they were.
    after = data + 0.6 * moving[:, None] * rng.normal(size=data.shape)

    def contrast(points):  # How much more the moving points moved in the plot than the still ones.
        moved = np.linalg.norm(points - root, axis=1)
        return moved[moving].mean() / moved[~moving].mean()

    held = sequence.tsne_frame(after, init=root, parent_data=data)
    assert contrast(held) > 1.2 * contrast(sequence.tsne_frame(after, init=root))
    assert neighborhood_hit(held, labels) > 0.95


def test_a_parent_that_no_longer_fits_is_not_kept(rng):
    data, labels = clusters(rng)
    unrelated = sequence.tsne_frame(rng.normal(size=data.shape))
    points = sequence.tsne_frame(data, init=unrelated)
    assert neighborhood_hit(points, labels) > 0.95


def test_parent_topology():
    layers, epochs = ["a", "b", "c"], [0, 2, 5]
    assert sequence.parent(("a", 0), layers, epochs) is None
    assert sequence.parent(("b", 0), layers, epochs) == ("a", 0)
    assert sequence.parent(("c", 0), layers, epochs) == ("b", 0)
    assert sequence.parent(("c", 2), layers, epochs) == ("c", 0)
    assert sequence.parent(("a", 5), layers, epochs) == ("a", 2)
    with pytest.raises(ValueError, match="No frame"):
        sequence.parent(("a", 1), layers, epochs)
    with pytest.raises(ValueError, match="No frame"):
        sequence.parent(("z", 0), layers, epochs)


def test_tsne_sequence_computes_each_ancestor_once(rng):
    layers, epochs = ["a", "b"], [0, 1, 2]
    base = rng.normal(size=(40, 5))
    loads = []

    def load(key):
        loads.append(key)
        return base + 0.1 * layers.index(key[0]) + 0.01 * key[1]

    seen = []
    frames = sequence.tsne_sequence([("b", 2), ("a", 1), ("b", 1)], load, layers, lambda layer: epochs,
                                    progress=seen.append)
    assert sorted(frames) == [("a", 0), ("a", 1), ("b", 0), ("b", 1), ("b", 2)]
    assert sorted(loads) == sorted(frames)  # Each frame loaded (and computed) once,
    assert loads.index(("a", 0)) < loads.index(("b", 0)) < loads.index(("b", 1)) < loads.index(("b", 2))
    assert seen[-1] == 1.0 and len(seen) == 5
    assert all(f.shape == (40, 2) for f in frames.values())


def test_cancelled_promptly(rng):
    data, _ = clusters(rng, n=300)
    calls = []

    def should_stop():
        calls.append(time.perf_counter())
        return True

    start = time.perf_counter()
    with pytest.raises(sequence.Cancelled):
        sequence.tsne_frame(data, should_stop=should_stop)
    assert len(calls) == 1 and time.perf_counter() - start < 10  # Stopped at the first check.


def test_preview_and_progress(rng):
    data, _ = clusters(rng)
    previews, progress = [], []
    result = sequence.tsne_frame(data, preview=previews.append, progress=progress.append)
    assert previews and all(p.shape == (200, 2) and p.dtype == np.float32 for p in previews)
    for p in previews:
        assert np.sqrt((p**2).sum(axis=1).mean()) == pytest.approx(1, rel=1e-4)
    assert progress == sorted(progress) and progress[-1] == 1.0
    warm = []
    sequence.tsne_frame(data + 0.3 * rng.normal(size=data.shape), init=result, preview=warm.append)
    assert coherence.mean_displacement([result, warm[0]]) < 0.3  # Drawn in the parent's frame.


def test_degenerate_data():
    assert not sequence.tsne_frame(np.ones((20, 4))).any()
    assert sequence.tsne_frame(np.ones((2, 4))).shape == (2, 2)
    data = np.random.default_rng(0).normal(size=(60, 5))
    data[3, 1], data[4, 0] = np.nan, np.inf
    assert np.isfinite(sequence.tsne_frame(data)).all()
    with pytest.raises(ValueError, match="'init'"):
        sequence.tsne_frame(data, init=np.zeros((59, 2)))


def test_check_perplexity():
    assert sequence.check_perplexity(30, 1000) == 30.0
    assert sequence.check_perplexity(30, 31) == 10.0
    assert sequence.check_perplexity(2, 10) == 2.0
    for bad in (1.9, 100.5, float("nan"), float("inf"), "30", None, True):
        with pytest.raises(ValueError, match="The 'perplexity' parameter must be a number in"):
            sequence.check_perplexity(bad, 1000)


def test_joint_pca_matches_pca_of_the_stacked_frames(rng):
    frames = [rng.normal(size=(50, 6)) * [5, 3, 1, 1, 1, 1] + t for t in range(3)]
    joint = joint_pca.joint_pca([lambda f=f: f for f in frames])
    expected = PCA(2).fit_transform(np.vstack(frames))
    stacked = np.vstack(joint)
    for axis in range(2):  # Equal up to sign and one common scale.
        ratio = stacked[:, axis] / expected[:, axis]
        np.testing.assert_allclose(np.abs(ratio), np.abs(ratio[0]), rtol=1e-4)
    assert np.sqrt((stacked**2).sum(axis=1).mean()) == pytest.approx(1, rel=1e-5)
    np.testing.assert_allclose(stacked.mean(axis=0), 0, atol=1e-6)
    assert ((stacked**3).mean(axis=0) > 0).all()


def test_joint_pca_streams(rng):
    alive, calls = [], []

    def loader(seed):
        def load():
            calls.append(seed)
            frame = np.random.default_rng(seed).normal(size=(30, 4))
            alive.append(weakref.ref(frame))
            assert sum(ref() is not None for ref in alive) <= 2  # Never all frames at once.
            return frame

        return load

    layouts = joint_pca.joint_pca([loader(s) for s in range(5)])
    assert len(layouts) == 5 and sorted(calls) == sorted(list(range(5)) * 2)
    bad = np.full((30, 4), np.nan)
    assert np.isfinite(joint_pca.joint_pca([lambda: bad, loader(9)])).all()
    with pytest.raises(ValueError, match="same width"):
        joint_pca.joint_pca([loader(0), lambda: np.zeros((30, 3))])


def test_coherence_metrics_on_hand_made_cases(rng):
    frame = rng.normal(size=(100, 2))
    assert coherence.mean_displacement([frame, frame * 3 + 1, frame]) == pytest.approx(0.0, abs=1e-12)
    unit = (frame - frame.mean(axis=0)) / np.sqrt(((frame - frame.mean(axis=0)) ** 2).sum(axis=1).mean())
    assert coherence.mean_displacement([frame, -frame]) == pytest.approx(2 * np.linalg.norm(unit, axis=1).mean())
    # Movements in nD and 2-D proportional (2-D is nD up to a rotation): r = 1.
    rotation = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    moved = frame.copy()
    moved[:30] += [1.5, 0.0]  # A pure translation of some points.
    steps = [frame, moved, moved * [1, 2]]
    padded = [np.hstack([f, np.zeros((100, 3))]) @ rotation for f in steps]
    assert coherence.stab_pearson(padded, steps) == pytest.approx(1.0)
    assert coherence.stab_pearson(padded, [steps[0], steps[2], steps[1]]) < 0.9
    assert coherence.distance_pearson(padded[0], steps[0]) == pytest.approx(1.0)
    assert coherence.distance_pearson(padded[0], rng.normal(size=(100, 2))) < 0.3
    big = rng.normal(size=(3000, 8))
    sampled = coherence.distance_pearson(big, big[:, :2], max_points=500)
    assert sampled == pytest.approx(coherence.distance_pearson(big, big[:, :2], max_points=3000), abs=0.05)
    with pytest.raises(ValueError, match="at least 2"):
        coherence.mean_displacement([frame])
    with pytest.raises(ValueError, match="same shape"):
        coherence.stab_pearson([padded[0], padded[0][:, :3]], steps[:2])


def test_digits_sequence_is_coherent_and_faithful():
    x, labels = load_digits_dataset()
    noise = np.random.default_rng(0).normal(size=x.shape) * x.std()
    noise[labels >= 5] = 0.0  # Only half the classes change from "epoch" to "epoch".
    data = {("l", e): x + noise * level for e, level in enumerate([0.6, 0.3, 0.0])}
    frames = sequence.tsne_sequence(list(data), data.__getitem__, ["l"], lambda layer: [0, 1, 2])
    chain = [frames[("l", e)] for e in range(3)]
    steps = [data[("l", e)] for e in range(3)]
    assert neighborhood_hit(chain[-1], labels) > 0.9
    assert coherence.mean_displacement(chain) < 0.1
    assert coherence.stab_pearson(steps, chain) > 0.3
    assert coherence.distance_pearson(steps[-1], chain[-1]) > 0.4


def test_a_root_frame_is_as_faithful_as_scikit_learns_tsne():
    from sklearn.manifold import TSNE, trustworthiness

    x, labels = load_digits_dataset()
    x, labels = x[:400], labels[:400]
    ours = sequence.tsne_frame(x)
    theirs = TSNE(perplexity=30, init="pca", random_state=0).fit_transform(x)
    assert neighborhood_hit(ours, labels) > neighborhood_hit(theirs, labels) - 0.03
    assert trustworthiness(x, ours, n_neighbors=6) > trustworthiness(x, theirs, n_neighbors=6) - 0.02
