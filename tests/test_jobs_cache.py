"""The analysis disk cache repairs itself: damaged or mismatched files are recomputed and
replaced, writes are atomic, and a failed write is logged once and retried."""

import logging
import os

import numpy as np
import pytest

from nnviz_tb.plugin import analyses, job_types, jobs

LABELS = np.arange(40) % 4
DATA = (np.random.default_rng(0).normal(size=(40, 5)) + LABELS[:, None]).astype(np.float32)


def request(data=DATA, name="r"):
    return job_types.Request(identity=(name,), load=lambda: data, analysis=analyses.point_projection("pca"),
                        labels=LABELS, description=name)


def compute(cache_dir, req=None):
    results, _ = jobs.Jobs(str(cache_dir), wait_seconds=30).get([req or request()])
    return results[0]


def corrupt_empty(path):
    path.write_bytes(b"")


def corrupt_half(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def corrupt_crc(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # Inside the stored points: the zip's CRC no longer matches.
    path.write_bytes(bytes(data))


def corrupt_three_rows(path):
    np.savez(path, points=np.zeros((3, 2), np.float32), neighborhood_hit=np.array(1.0), non_finite=np.array(0))


def corrupt_keys(path):
    np.savez(path, something=np.zeros(3))


def corrupt_objects(path):
    np.savez(path, points=np.array([[None, None]] * 40, dtype=object), neighborhood_hit=np.array(1.0),
             non_finite=np.array(0))


@pytest.mark.parametrize("damage", [corrupt_empty, corrupt_half, corrupt_crc, corrupt_three_rows, corrupt_keys,
                                    corrupt_objects])
def test_a_damaged_cache_file_is_recomputed_and_replaced(tmp_path, damage):
    fresh = compute(tmp_path)
    (path,) = tmp_path.glob("*.npz")
    damage(path)
    again = compute(tmp_path)
    assert again["points"].shape == (40, 2)
    np.testing.assert_array_equal(again["points"], fresh["points"])
    assert float(again["neighborhood_hit"]) == float(fresh["neighborhood_hit"])
    with np.load(path, allow_pickle=False) as stored:  # Replaced by a good file.
        np.testing.assert_array_equal(stored["points"], fresh["points"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # No temporary file left.


def test_a_failed_write_is_logged_once_and_retried(tmp_path, caplog):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache directory should be")
    cache = jobs.Jobs(str(blocker / "cache"), wait_seconds=30)
    with caplog.at_level(logging.WARNING, logger="nnviz_tb.plugin.jobs"):
        for i in range(3):
            results, _ = cache.get([request(DATA + i, name="r%d" % i)])
            assert results[0]["points"].shape == (40, 2)
    assert len([r for r in caplog.records if "cannot write the analysis cache" in r.message]) == 1
    os.remove(blocker)
    cache.get([request(DATA + 5, name="r5")])
    assert len(list((blocker / "cache").glob("*.npz"))) == 1  # Still trying: this one is on disk.
