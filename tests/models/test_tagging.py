"""Zero-shot tagging arithmetic against per-label edges."""

from __future__ import annotations

import numpy as np
import pytest

from picsift.models.tagging import calibrated_tags

LABELS = ["cat", "dog", "tractor"]


def test_labels_above_their_edges_largest_margin_first():
    labels = np.eye(3, 4, dtype=np.float32)
    images = np.array([[0.9, 0.5, 0.0, 0.3], [0.0, 0.0, 1.0, 0.0]], np.float32)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    edges = np.array([0.2, 0.2, 0.5])
    tags = calibrated_tags(images, labels, LABELS, edges, top_k=3)
    assert [t for t, _ in tags[0]] == ["cat", "dog"]
    assert tags[1] == [("tractor", pytest.approx(0.5))]
    assert [t for t, _ in calibrated_tags(images, labels, LABELS, edges, top_k=1)[0]] == ["cat"]


def test_a_label_below_its_edge_is_not_applied_whatever_the_others_score():
    """No forced choice: an image far from every label gets none (a softmax gave it one)."""
    labels = np.eye(3, 4, dtype=np.float32)
    unrelated = np.array([[0.0, 0.0, 0.0, 1.0]], np.float32)
    assert calibrated_tags(unrelated, labels, LABELS, np.full(3, 0.1)) == [[]]
    near = np.array([[0.3, 0.0, 0.0, 0.95]], np.float32)
    assert calibrated_tags(near, labels, LABELS, np.full(3, 0.1), min_margin=0.25) == [[]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="2 labels, 3 vectors"):
        calibrated_tags(np.zeros((1, 4)), np.eye(3, 4), LABELS[:2], np.zeros(3))
    with pytest.raises(ValueError, match="min_margin"):
        calibrated_tags(np.zeros((1, 4)), np.eye(3, 4), LABELS, np.zeros(3), min_margin=-1)
