"""Neighbour search for UMAP's graph and for placing images: exact, and the partitioned search."""

from __future__ import annotations

import numpy as np

from tests.conftest import unit_vectors
from topics import knn


def clustered(n: int, dim: int = 32, clusters: int = 150, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = unit_vectors(clusters, dim, seed=seed + 1)
    v = centres[rng.integers(0, clusters, n)] + 0.15 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_top_k_matches_brute_force():
    queries, refs = unit_vectors(50, 24, seed=1), unit_vectors(300, 24, seed=2)
    indices, sims = knn.top_k(queries, refs, 7)
    truth = np.argsort(-(queries @ refs.T), axis=1)[:, :7]
    assert (indices == truth).all()
    assert np.allclose(sims, np.take_along_axis(queries @ refs.T, truth, axis=1))
    assert knn.top_k(queries, refs[:3], 7)[0].shape == (50, 3)


def test_graph_puts_each_point_first_even_with_duplicates():
    vectors = np.repeat(unit_vectors(10, 8, seed=3), 4, axis=0)
    indices, distances = knn.knn_graph(vectors, 5, seed=0)
    assert (indices[:, 0] == np.arange(40)).all() and (distances[:, 0] == 0).all()
    assert (distances >= 0).all() and (np.diff(distances, axis=1) >= -1e-6).all()


def test_partitioned_graph_finds_nearly_all_true_neighbours():
    vectors = clustered(3 * knn.EXACT_MAX)
    indices, _ = knn.knn_graph(vectors, 10, seed=0)
    rows = np.random.default_rng(4).choice(len(vectors), 300, replace=False)
    truth, _ = knn.top_k(vectors[rows], vectors, 10)
    recall = np.mean([len(set(truth[j]) & set(indices[r])) / 10 for j, r in enumerate(rows)])
    assert recall >= 0.95


def test_identical():
    one = unit_vectors(1, 8, seed=5)
    assert knn.identical(np.repeat(one, 5, axis=0))
    assert not knn.identical(unit_vectors(5, 8, seed=5))


def test_partitioned_search_of_other_queries():
    vectors = clustered(2 * knn.EXACT_MAX + 500)
    refs, queries = vectors[:-500], vectors[-500:]
    cells = knn.cells_for(refs, seed=0)
    assert cells is not None and knn.cells_for(refs[:100], seed=0) is None
    found, sims = knn.search(queries, refs, 10, cells)
    truth, true_sims = knn.top_k(queries, refs, 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]) >= 0.95
    assert (np.diff(sims, axis=1) <= 1e-6).all() and (sims[:, 0] <= true_sims[:, 0] + 1e-6).all()
