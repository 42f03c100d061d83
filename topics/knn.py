"""Nearest neighbours of unit vectors by cosine similarity, in blocks so memory stays bounded.

UMAP needs a k-nearest-neighbour graph of the fit set, and placing images needs each one's
nearest reference images. UMAP's own search (NN-descent) runs on one core when a seed is set
and took about a minute for 20k 512-d vectors here; an exact search is quadratic. Above
`EXACT_MAX` reference vectors, `search` uses an inverted-file partition instead, the way IVF
indexes such as FAISS's work: spherical k-means cells over the references, and each query
compared exactly with the references in the `PROBE` cells nearest to it.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

EXACT_MAX = 4096
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


def cells_for(refs: np.ndarray, seed: int) -> np.ndarray | None:
    """The partition `search` uses for these references (None: they are few, search exactly)."""
    if len(refs) <= EXACT_MAX:
        return None
    return kmeans(refs, int(np.clip(round(np.sqrt(len(refs))), 16, 1024)), seed)


def search(
    queries: np.ndarray, refs: np.ndarray, k: int, cells: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """`top_k`, exact when `cells` is None, else within the `PROBE` cells nearest each query."""
    if cells is None:
        return top_k(queries, refs, k)
    k = min(k, len(refs))
    ref_cell = top_k(refs, cells, 1)[0][:, 0]
    probes = top_k(queries, cells, min(PROBE, len(cells)))[0]
    best = np.full((len(queries), k), -1, np.int64)
    best_sims = np.full((len(queries), k), -np.inf, np.float32)
    # Queries grouped by the cells they probe: each cell's references are compared once with
    # all the queries that probe it, and merged into those queries' best k so far.
    order = np.argsort(probes, axis=None, kind="stable")
    probed = probes.ravel()[order]
    bounds = np.searchsorted(probed, np.arange(len(cells) + 1))
    # The products per cell are small; a threaded BLAS spends longer waking its threads than
    # computing them (ten times longer on a busy 2-core machine).
    with threadpool_limits(1, user_api="blas"):
        for cell in range(len(cells)):
            rows = order[bounds[cell] : bounds[cell + 1]] // probes.shape[1]
            members = np.flatnonzero(ref_cell == cell)
            if not len(rows) or not len(members):
                continue
            found, sims = top_k(queries[rows], refs[members], k)
            merged = np.concatenate([best[rows], members[found]], axis=1)
            merged_sims = np.concatenate([best_sims[rows], sims], axis=1)
            keep = np.argsort(-merged_sims, axis=1, kind="stable")[:, :k]
            best[rows] = np.take_along_axis(merged, keep, axis=1)
            best_sims[rows] = np.take_along_axis(merged_sims, keep, axis=1)
    missing = best < 0  # fewer candidates than k: repeat the best neighbour found
    best[missing] = np.broadcast_to(best[:, :1], best.shape)[missing]
    best_sims[missing] = np.broadcast_to(best_sims[:, :1], best.shape)[missing]
    return best, best_sims


def knn_graph(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each vector's `k` nearest vectors (itself first), as UMAP's `precomputed_knn` wants them.

    Returns:
        `(indices, cosine distances)`, shape `(n, k)`.
    """
    indices, sims = search(vectors, vectors, k, cells_for(vectors, seed))
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
        order = np.argsort(nearest, kind="stable")
        present, starts = np.unique(nearest[order], return_index=True)
        sums = np.zeros_like(centroids)
        sums[present] = np.add.reduceat(fit[order], starts)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        filled = norms[:, 0] > 0
        centroids[filled] = sums[filled] / norms[filled]
    return centroids
