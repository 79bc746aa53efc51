"""Quality measures of 2-D projections."""

import numpy as np
from sklearn.neighbors import NearestNeighbors

DEFAULT_K = 6  # As in Rauber et al. (2017).


def neighborhood_hit(points, labels, k=DEFAULT_K):
    """Mean fraction of each point's `k` nearest neighbours that share its label.

    Args:
      points: `[N, 2]` projected positions.
      labels: `[N]` integer labels.
      k: Number of neighbours, the point itself excluded.

    Returns:
      A float in [0, 1]; 1 means classes are perfectly separated. With fewer
      than `k + 1` points, every other point is a neighbour.
    """
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    n = len(points)
    if n < 2:
        return 1.0
    k = min(k, n - 1)
    # Ask for one neighbour more and drop each point itself (or one of its
    # duplicates, which is equivalent for the hit rate).
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    not_self = idx != np.arange(n)[:, None]
    # Keep the first k columns that are not the point itself.
    keep = np.cumsum(not_self, axis=1) <= k
    neighbours = np.where(not_self & keep, idx, -1)
    hits = (labels[np.maximum(neighbours, 0)] == labels[:, None]) & (neighbours >= 0)
    return float(hits.sum() / (n * k))
