"""Nearest neighbours of unit vectors by cosine similarity, in blocks so memory stays bounded.

UMAP needs a k-nearest-neighbour graph of the fit set. Its own search (NN-descent) runs on one
core when a seed is set and took about a minute for 20k 512-d vectors here; an exact search
is quadratic. Above `EXACT_MAX` vectors, `knn_graph` searches an inverted-file partition
instead: spherical k-means cells, each cell's points compared exactly with the points of the
cells nearest to it (the way IVF indexes such as FAISS's work).
"""

from __future__ import annotations

import numpy as np

EXACT_MAX = 12_000
BLOCK = 1024
PROBE = 8
KMEANS_ITER = 8
KMEANS_FIT_MAX = 20_000
IDENTICAL = 1e-6  # largest cosine distance from the mean at which all vectors count as one


def identical(vectors: np.ndarray) -> bool:
    """Whether all unit vectors point the same way (nothing to cluster or lay out)."""
    mean = vectors.mean(axis=0)
    mean = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return float((1.0 - vectors @ mean).max()) <= IDENTICAL


def top_k(queries: np.ndarray, refs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` most similar rows of `refs` for every row of `queries`, best first.

    Returns:
        `(indices, similarities)`, both of shape `(len(queries), min(k, len(refs)))`.
    """
    k = min(k, len(refs))
    indices = np.empty((len(queries), k), np.int64)
    sims = np.empty((len(queries), k), np.float32)
    for start in range(0, len(queries), BLOCK):
        block = queries[start : start + BLOCK] @ refs.T
        if k < len(refs):
            part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(len(refs)), block.shape)
        values = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        indices[start : start + BLOCK] = np.take_along_axis(part, order, axis=1)
        sims[start : start + BLOCK] = np.take_along_axis(values, order, axis=1)
    return indices, sims


def knn_graph(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each vector's `k` nearest vectors (itself first), as UMAP's `precomputed_knn` wants them.

    Returns:
        `(indices, cosine distances)`, shape `(n, k)`.
    """
    if len(vectors) <= EXACT_MAX:
        indices, sims = top_k(vectors, vectors, k)
    else:
        indices, sims = _ivf_graph(vectors, k, seed)
    _self_first(indices, sims)
    return indices, np.maximum(1.0 - sims, 0.0).astype(np.float32)


def _self_first(indices: np.ndarray, sims: np.ndarray) -> None:
    # With exact duplicates another point can tie with the point itself; UMAP expects self.
    rows = np.arange(len(indices))
    own = indices == rows[:, None]
    first = np.where(own.any(axis=1), own.argmax(axis=1), indices.shape[1] - 1)
    indices[rows, first] = indices[:, 0]
    sims[rows, first] = sims[:, 0]
    indices[:, 0] = rows
    sims[:, 0] = 1.0


def kmeans(vectors: np.ndarray, cells: int, seed: int) -> np.ndarray:
    """Unit centroids of a spherical k-means (fitted on at most `KMEANS_FIT_MAX` vectors)."""
    rng = np.random.default_rng(seed)
    fit = vectors
    if len(fit) > KMEANS_FIT_MAX:
        fit = vectors[np.sort(rng.choice(len(vectors), KMEANS_FIT_MAX, replace=False))]
    centroids = fit[rng.choice(len(fit), cells, replace=False)].copy()
    for _ in range(KMEANS_ITER):
        nearest = top_k(fit, centroids, 1)[0][:, 0]
        sums = np.zeros_like(centroids)
        np.add.at(sums, nearest, fit)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        filled = norms[:, 0] > 0
        centroids[filled] = sums[filled] / norms[filled]
    return centroids


def _ivf_graph(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(vectors)
    cells = int(np.clip(round(np.sqrt(n)), 16, 1024))
    centroids = kmeans(vectors, cells, seed)
    cell_of = top_k(vectors, centroids, 1)[0][:, 0]
    members = [np.flatnonzero(cell_of == c) for c in range(cells)]
    probes = top_k(centroids, centroids, PROBE)[0]
    indices = np.empty((n, k), np.int64)
    sims = np.empty((n, k), np.float32)
    for cell, own in enumerate(members):
        if not len(own):
            continue
        candidates = np.concatenate([members[c] for c in probes[cell]])
        found, found_sims = top_k(vectors[own], vectors[candidates], k)
        width = found.shape[1]
        indices[own, :width] = candidates[found]
        sims[own, :width] = found_sims
        if width < k:  # fewer candidates than k: repeat the last neighbour
            indices[own, width:] = indices[own, width - 1 : width]
            sims[own, width:] = sims[own, width - 1 : width]
    return indices, sims
