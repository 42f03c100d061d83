"""Zero-shot tags from stored vectors: a matrix product against label embeddings (what 4CAT's
"categorize images with CLIP" does), no image decoding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def zero_shot(
    image_vectors: np.ndarray,
    label_vectors: np.ndarray,
    labels: Sequence[str],
    *,
    logit_scale: float = 100.0,
    top_k: int = 3,
    threshold: float = 0.2,
) -> list[list[tuple[str, float]]]:
    """Per image, up to `top_k` labels whose softmax probability is at least `threshold`.

    Args:
        image_vectors: (n, d) unit vectors.
        label_vectors: (k, d) unit vectors of the labels (prompted as the caller likes).
        labels: the k label names.
        logit_scale: CLIP's temperature (`model.logit_scale.exp()`).
        top_k: most labels kept per image.
        threshold: least probability kept.

    Returns:
        For each image, `[(label, probability), ...]`, most probable first.
    """
    if len(labels) != len(label_vectors):
        raise ValueError(f"{len(labels)} labels but {len(label_vectors)} label vectors")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be within 0..1, got {threshold}")
    logits = logit_scale * (image_vectors @ label_vectors.T)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    order = np.argsort(-probs, axis=1)[:, :top_k]
    return [
        [(labels[j], float(row[j])) for j in best if row[j] >= threshold]
        for row, best in zip(probs, order, strict=True)
    ]
