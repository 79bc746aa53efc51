"""Tests of nnviz_tb.datasets: IDX reading, MNIST discovery and the digits."""

import gzip
import os
import struct

import numpy as np
import pytest

from nnviz_tb import datasets

MNIST_DIR = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "shared", "data", "mnist")


def write_idx(path, array, compress):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    array = np.asarray(array)
    stored = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    data = bytes([0, 0, codes[stored.dtype], array.ndim])
    data += struct.pack(">%dI" % array.ndim, *array.shape) + stored.tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([7, -2, 1 << 20], dtype=np.int32),
        np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2),
    ],
)
def test_load_idx_round_trip(tmp_path, array, compress):
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array, compress)
    loaded = datasets.load_idx(path)
    assert loaded.shape == array.shape
    assert loaded.dtype == array.dtype
    np.testing.assert_array_equal(loaded, array)


@pytest.mark.parametrize("compress", [True, False])
def test_load_idx_truncated(tmp_path, compress):
    path = tmp_path / "a.idx"
    write_idx(path, np.zeros((10, 5, 5), np.uint8), compress)
    data = path.read_bytes()
    if compress:  # A truncated gzip stream, and a complete stream of a cut file.
        path.write_bytes(data[:-12])
        with pytest.raises(ValueError, match="gzip|truncated"):
            datasets.load_idx(path)
        path.write_bytes(gzip.compress(gzip.decompress(data)[:-7]))
    else:
        path.write_bytes(data[:-7])
    with pytest.raises(ValueError, match="truncated"):
        datasets.load_idx(path)


@pytest.mark.parametrize(
    "content", [b"", b"\x00\x00", b"PK\x03\x04 not idx", b"\x00\x00\x07\x01\x00\x00\x00\x01x"]
)
def test_load_idx_bad_magic(tmp_path, content):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.load_idx(path)


def test_load_idx_header_cut(tmp_path):
    path = tmp_path / "cut"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x02")  # Says 3 dims, gives 1.
    with pytest.raises(ValueError, match="truncated"):
        datasets.load_idx(path)


def test_load_mnist_from_tiny_directory(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 9, 3, 3], np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, False)  # Raw works too.
    splits = datasets.load_mnist(tmp_path)
    assert list(splits) == ["test"]  # No train files: only the test split.
    x, y = splits["test"]
    assert x.dtype == np.float32 and x.max() <= 1.0
    np.testing.assert_allclose(x * 255, images, atol=1e-3)
    np.testing.assert_array_equal(y, labels)
    raw = datasets.load_mnist(tmp_path, normalize=False)["test"][0]
    np.testing.assert_array_equal(raw, images)


def test_load_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k"):
        datasets.load_mnist(tmp_path)


def test_default_mnist_dir_uses_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.MNIST_DIR_ENV, str(tmp_path))
    assert datasets.default_mnist_dir() == str(tmp_path)
    monkeypatch.delenv(datasets.MNIST_DIR_ENV)
    monkeypatch.chdir(tmp_path)  # No ../shared/data/mnist from here.
    assert datasets.default_mnist_dir() is None


@pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="no MNIST files in ../shared/data/mnist")
def test_real_mnist():
    x, y = datasets.load_mnist(MNIST_DIR)["test"]
    assert x.shape == (10000, 28, 28) and x.dtype == np.float32
    assert y.shape == (10000,)
    assert set(np.unique(y)) == set(range(10))
    assert 0.0 <= x.min() and x.max() == 1.0
    (xt, yt), (xp, yp) = datasets.mnist_split(MNIST_DIR, 8000, 2000)
    assert xt.shape == (8000, 28, 28) and xp.shape == (2000, 28, 28)
    np.testing.assert_array_equal(xp, x[8000:])
    np.testing.assert_array_equal(yt, y[:8000])


def test_mnist_split_checks_sizes(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 28, 28), np.uint8), False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8), False)
    (xt, _), (xp, _) = datasets.mnist_split(tmp_path, 3, 1)
    assert len(xt) == 3 and len(xp) == 1
    with pytest.raises(ValueError, match="num_probe"):
        datasets.mnist_split(tmp_path, 3, 5)


def test_load_digits_dataset():
    x, y = datasets.load_digits_dataset()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == 1.0
    assert y.shape == (1797,) and set(np.unique(y)) == set(range(10))
