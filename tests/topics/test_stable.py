"""Stable ids: optimal one-to-one matching of centroids, fresh ids, merges and splits."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tests.conftest import unit_vectors
from topics.stable import NO_PRIOR, OldTopic, changes, match
from topics.table import TopicInfo


def old(topic: int, vector: np.ndarray, merged_from=()) -> OldTopic:
    return OldTopic(TopicInfo(topic, f"t{topic}", merged_from=list(merged_from)), vector)


def at(degrees: float, dim: int = 16) -> np.ndarray:
    """A unit vector in the plane of the first two axes."""
    v = np.zeros(dim, np.float32)
    v[:2] = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return v


def test_matching_is_one_to_one_and_optimal():
    # Similarities new x old: [[0.95, 0.93], [0.94, 0.50]]. Matching greedily (best pair
    # first) would pair new 0 with old 7 and leave new 1 only 0.50 to old 9, a fresh id; the
    # optimal assignment keeps both ids.
    olds = [old(7, at(0.0)), old(9, at(39.76))]
    centroids = {0: at(18.19), 1: at(-19.95), 2: at(180.0)}
    matched = match(centroids, {0: 10, 1: 10, 2: 10}, {}, olds, max_topic=11)
    assert matched.ids == {-1: -1, 0: 9, 1: 7, 2: 12}
    assert matched.fresh == [12] and matched.max_topic == 12


def test_fresh_ids_follow_size_and_never_reuse_ids():
    vectors = unit_vectors(4, 16, seed=2)
    centroids = {i: v for i, v in enumerate(vectors)}
    matched = match(centroids, {0: 5, 1: 50, 2: 20, 3: 5}, {}, [], max_topic=30)
    assert matched.ids == {-1: -1, 1: 31, 2: 32, 0: 33, 3: 34}
    first = match(centroids, {0: 5, 1: 50, 2: 20, 3: 5}, {}, [])
    assert sorted(first.ids.values()) == [-1, 0, 1, 2, 3] and first.ids[1] == 0


def test_a_researchers_merge_persists_by_membership():
    a, b, c = unit_vectors(3, 16, seed=3)
    # Old topic 4 is a researcher's merge of two visual clusters; the refit finds both again.
    merged_centroid = (a + b) / np.linalg.norm(a + b)
    olds = [old(4, merged_centroid, merged_from=[8]), old(5, c)]
    priors = {0: Counter({4: 9, NO_PRIOR: 3}), 1: Counter({4: 10}), 2: Counter({5: 10})}
    matched = match({0: a, 1: b, 2: c}, {0: 12, 1: 10, 2: 10}, priors, olds, max_topic=8)
    assert matched.ids == {-1: -1, 0: 4, 1: 4, 2: 5} and matched.fresh == []


def test_changes_name_kept_merged_split_and_gone():
    prior = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, NO_PRIOR, -1])
    labels = np.array([1, 1, 1, 1, 1, 1, 3, 3, 6, 6, 6, 1])
    found = changes(prior, labels, [1, 2, 3, 4])
    assert found["kept"] == {"1": 3, "3": 2}
    assert found["merged"] == {"1": [1, 2]}
    assert found["split"] == {"3": [3, 6]}
    assert found["gone"] == [2, 4]
