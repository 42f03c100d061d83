"""Zero-shot tagging arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from picsift.models.tagging import zero_shot

LABELS = ["cat", "dog", "tractor"]


def test_top_label_and_probabilities():
    labels = np.eye(3, 4, dtype=np.float32)
    images = np.array([[0.9, 0.1, 0.0, 0.42], [0.0, 0.0, 1.0, 0.0]], np.float32)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    tags = zero_shot(images, labels, LABELS, logit_scale=100, top_k=2, threshold=0.0)
    assert [t for t, _ in tags[0]] == ["cat", "dog"]
    assert tags[1][0][0] == "tractor" and tags[1][0][1] == pytest.approx(1.0, abs=1e-6)
    probs = [p for _, p in zero_shot(images, labels, LABELS, top_k=3, threshold=0)[0]]
    assert sum(probs) == pytest.approx(1.0, abs=1e-5) and probs == sorted(probs, reverse=True)


def test_threshold_drops_unsure_labels():
    labels = np.eye(3, 4, dtype=np.float32)
    ambiguous = np.full((1, 4), 0.5, np.float32)  # equally close to all three
    assert zero_shot(ambiguous, labels, LABELS, threshold=0.5) == [[]]
    assert len(zero_shot(ambiguous, labels, LABELS, threshold=0.3)[0]) == 3


def test_bad_arguments():
    with pytest.raises(ValueError, match="2 labels but 3"):
        zero_shot(np.zeros((1, 4)), np.eye(3, 4), LABELS[:2])
    with pytest.raises(ValueError, match="threshold"):
        zero_shot(np.zeros((1, 4)), np.eye(3, 4), LABELS, threshold=2)
