"""Zero-shot tags from stored vectors: label scores against calibrated edges (what 4CAT's
"categorize images with CLIP" does, without its forced choice), no image decoding.

A softmax over the codebook always hands the probability to some label, so a label that
describes nothing in an image is still applied whenever the others fit worse (a three-label
codebook `red / blue / tractor` put "tractor" on 102 of 240 shapes). Here each label has its
own edge (see `picsift.relevance`): the image carries the label only when its score stands out
from the label's median score more than the best images of 19 in 20 meaningless prompts do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def calibrated_tags(
    image_vectors: np.ndarray,
    label_vectors: np.ndarray,
    labels: Sequence[str],
    edges: np.ndarray,
    *,
    top_k: int = 3,
    min_margin: float = 0.0,
) -> list[list[tuple[str, float]]]:
    """Per image, up to `top_k` labels whose score exceeds their edge by more than `min_margin`.

    Args:
        image_vectors: (n, d) unit vectors.
        label_vectors: (k, d) unit vectors of the labels (prompted as the caller likes).
        labels: the k label names.
        edges: (k,) score above which an image carries each label.
        top_k: most labels kept per image.
        min_margin: extra score above the edge a label needs (0: the edge itself).

    Returns:
        For each image, `[(label, margin above the edge), ...]`, largest margin first.
    """
    if not len(labels) == len(label_vectors) == len(edges):
        raise ValueError(f"{len(labels)} labels, {len(label_vectors)} vectors, {len(edges)} edges")
    if min_margin < 0:
        raise ValueError(f"min_margin must be >= 0, got {min_margin}")
    margins = image_vectors @ label_vectors.T - np.asarray(edges)[None, :]
    order = np.argsort(-margins, axis=1, kind="stable")[:, :top_k]
    return [
        [(labels[j], float(row[j])) for j in best if row[j] > min_margin]
        for row, best in zip(margins, order, strict=True)
    ]
