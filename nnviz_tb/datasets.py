"""Small datasets for the examples, tests and benchmarks (NumPy only, no TensorFlow).

`load_mnist` reads MNIST from IDX files on disk (the format of
http://yann.lecun.com/exdb/mnist/, gzipped or not) and only downloads through
`keras.datasets.mnist` when no local copy is found. `load_digits_dataset`
wraps scikit-learn's bundled 8x8 digits, which never need a download.
"""

import gzip
import os

import numpy as np

# IDX type codes (third byte of the magic number) and their big-endian dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_DIR_ENV = "NNVIZ_TB_MNIST_DIR"


def load_idx(path):
    """Reads one IDX file (`.gz` or raw) into an array of its stored shape.

    Raises:
      ValueError: if the file is not IDX (bad magic number) or is truncated.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":  # gzip magic, whatever the file name.
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise ValueError("%s: corrupt or truncated gzip data (%s)." % (path, e)) from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError("%s is not an IDX file (bad magic number %r)." % (path, data[:4]))
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError("%s is truncated: the header needs %d bytes." % (path, header))
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != size:
        raise ValueError(
            "%s is truncated or corrupt: shape %s needs %d data bytes, found %d."
            % (path, shape, size, len(data) - header)
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find_file(directory, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    return None


def default_mnist_dir():
    """`$NNVIZ_TB_MNIST_DIR`, else `../shared/data/mnist` if it exists, else None."""
    if os.environ.get(MNIST_DIR_ENV):
        return os.environ[MNIST_DIR_ENV]
    shared = os.path.join(os.pardir, "shared", "data", "mnist")
    return shared if os.path.isdir(shared) else None


def load_mnist(directory=None, normalize=True):
    """Loads MNIST: `{"train": (x, y), "test": (x, y)}` for the splits found.

    Reads IDX files (`t10k-*`, and `train-*` when present) from `directory`.
    Without a directory, uses `default_mnist_dir()`, and falls back to
    `keras.datasets.mnist` (which downloads) when there is none.

    Args:
      directory: Folder of the IDX files. Defaults to None.
      normalize: Whether to return `x` as float32 in 0..1 (else uint8).
        Defaults to True.

    Returns:
      A dict of split name to `(x [N, 28, 28], y [N] int64)`.

    Raises:
      FileNotFoundError: if `directory` holds no MNIST test files.
    """
    directory = directory or default_mnist_dir()
    if directory is None:
        import keras  # Only here: downloads, so only works online.

        (xt, yt), (xs, ys) = keras.datasets.mnist.load_data()
        splits = {"train": (xt, yt), "test": (xs, ys)}
    else:
        splits = {}
        for split, names in MNIST_FILES.items():
            paths = [_find_file(directory, name) for name in names]
            if None not in paths:
                splits[split] = tuple(load_idx(p) for p in paths)
        if "test" not in splits:
            raise FileNotFoundError(
                "No MNIST test files (%s[.gz]) in %s." % (MNIST_FILES["test"], directory)
            )
    return {
        split: ((x.astype(np.float32) / 255.0) if normalize else x, y.astype(np.int64))
        for split, (x, y) in splits.items()
    }


def mnist_split(directory=None, num_train=8000, num_probe=2000):
    """`(x_train, y_train), (x_probe, y_probe)` from the 10,000 MNIST test images.

    The examples and benchmarks train on the first `num_train` test images
    and probe on the last `num_probe`, so only the small t10k files are
    needed. The two parts are disjoint when `num_train + num_probe <= 10000`
    (a larger probe overlaps the training images). Images are float32
    `[N, 28, 28]` in 0..1.
    """
    x, y = load_mnist(directory)["test"]
    for name, value in (("num_train", num_train), ("num_probe", num_probe)):
        if not 1 <= value <= len(x):
            raise ValueError(
                "The '%s' parameter must be in 1..%d. Got %r instead." % (name, len(x), value)
            )
    return (x[:num_train], y[:num_train]), (x[len(x) - num_probe :], y[len(y) - num_probe :])


def load_digits_dataset():
    """scikit-learn's bundled 8x8 digits: `(x [1797, 64] float32 in 0..1, y [1797] int64)`."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)
