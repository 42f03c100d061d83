"""The reference set of a run: fitted images that place every other image on topic and map.

A stratified sample of the fitted images (at most `REFERENCE_MAX`) keeps its vector, topic and
2-D map position (UMAP). Any other image, whether left out of a sampled fit or indexed later,
gets the topic its nearest reference images vote for, and a map position among those of them
in its topic. An image less similar to its nearest reference image than almost every
reference image is to its own nearest neighbour is left unassigned (-1).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from topics import knn
from topics.table import OUTLIER

REFERENCE_MAX = 8192
MIN_PER_TOPIC = 10
NEIGHBORS = 10
NOVEL_QUANTILE = 0.01
MAP_NEIGHBORS = 15
MAP_EPOCHS = 200  # UMAP's own choice above 10k points; below it would run 500 for a picture
PCA_BELOW = 16  # UMAP needs a few more points than neighbours; smaller sets use PCA


@dataclass
class Placement:
    """Topics, scores (vote shares, 0 for -1) and map positions of placed images."""

    topics: np.ndarray
    scores: np.ndarray
    xy: np.ndarray


@dataclass
class Reference:
    """Reference images of a run: unit vectors, stable topics, map positions in [0, 1]."""

    vectors: np.ndarray
    topics: np.ndarray
    xy: np.ndarray
    min_similarity: float
    cells: np.ndarray | None = None  # the neighbour search's partition (`knn.cells_for`)

    def place(
        self,
        vectors: np.ndarray,
        topics: np.ndarray | None = None,
        merges: Mapping[int, int] | None = None,
    ) -> Placement:
        """Topic by a similarity-weighted vote of the nearest reference images, and a map
        position among those in the image's topic (`topics`, when already known).

        Args:
            vectors: unit vectors to place.
            topics: their topics when known (fitted images); else voted.
            merges: topic -> topic it was merged into by a researcher.
        """
        idx, sims = knn.search(vectors, self.vectors, NEIGHBORS, self.cells)
        ref_topics = self.topics
        if merges:
            ref_topics = np.array([merges.get(int(t), int(t)) for t in ref_topics], np.int64)
        near = ref_topics[idx]
        weights = np.clip(sims, 1e-6, None)
        votes = (weights[:, None, :] * (near[:, :, None] == near[:, None, :])).sum(axis=2)
        rows = np.arange(len(vectors))
        best = votes.argmax(axis=1)
        voted = near[rows, best]
        scores = votes[rows, best] / weights.sum(axis=1)
        voted[sims[:, 0] < self.min_similarity] = OUTLIER
        scores[voted == OUTLIER] = 0.0
        own = voted if topics is None else topics
        mask = near == own[:, None]
        mask[~mask.any(axis=1)] = True
        w = weights * mask
        xy = (w[:, :, None] * self.xy[idx]).sum(axis=1) / w.sum(axis=1, keepdims=True)
        return Placement(voted, scores, xy.astype(np.float32))

    def save(self, path: Path) -> None:
        """Write as safetensors (no pickle)."""
        from safetensors.numpy import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {
            "vectors": np.ascontiguousarray(self.vectors, np.float32),
            "topics": np.ascontiguousarray(self.topics, np.int64),
            "xy": np.ascontiguousarray(self.xy, np.float32),
        }
        if self.cells is not None:
            tensors["cells"] = np.ascontiguousarray(self.cells, np.float32)
        save_file(tensors, str(path), metadata={"min_similarity": repr(self.min_similarity)})

    @classmethod
    def load(cls, path: Path) -> Reference:
        """Read what `save` wrote."""
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as fh:
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}  # noqa: SIM118
            meta = fh.metadata() or {}
        return cls(
            tensors["vectors"],
            tensors["topics"],
            tensors["xy"],
            float(meta.get("min_similarity", "-1")),
            tensors.get("cells"),
        )


def choose(labels: np.ndarray, seed: int, limit: int = REFERENCE_MAX) -> np.ndarray:
    """Row indices of a stratified sample: every topic keeps at least `MIN_PER_TOPIC`
    images (all when it has fewer), the rest in proportion to topic size."""
    if len(labels) <= limit:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    picked = []
    for topic in np.unique(labels):
        members = np.flatnonzero(labels == topic)
        quota = max(MIN_PER_TOPIC, int(len(members) * limit / len(labels)))
        picked.append(rng.choice(members, min(quota, len(members)), replace=False))
    return np.sort(np.concatenate(picked))


def layout(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """2-D map positions in [0, 1] (UMAP on cosine kNN; PCA for tiny sets), and each
    vector's similarity to its nearest other vector."""
    n = len(vectors)
    if n < 2 or knn.identical(vectors):
        return np.full((n, 2), 0.5, np.float32), np.ones(n, np.float32)
    indices, distances = knn.knn_graph(vectors, min(MAP_NEIGHBORS, n - 1), seed)
    nearest = 1.0 - distances[:, 1]
    if n < PCA_BELOW:
        centred = vectors - vectors.mean(axis=0)
        xy = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    else:
        from umap import UMAP

        neighbors = indices.shape[1]
        model = UMAP(
            n_neighbors=neighbors,
            n_components=2,
            min_dist=0.1,
            metric="cosine",
            n_epochs=MAP_EPOCHS,
            random_state=seed,
            precomputed_knn=(indices, distances, None),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # no search index: never transforms
            xy = model.fit_transform(vectors)
    return _unit_square(np.nan_to_num(np.asarray(xy, np.float64))), nearest


def _unit_square(xy: np.ndarray) -> np.ndarray:
    if xy.shape[1] < 2:  # PCA of points on a line
        xy = np.hstack([xy, np.zeros((len(xy), 2 - xy.shape[1]))])
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.where(high - low > 1e-12, high - low, 1.0)
    out = (xy - low) / span
    out[:, high - low <= 1e-12] = 0.5
    return out.astype(np.float32)


def build(vectors: np.ndarray, labels: np.ndarray, seed: int) -> tuple[Reference, np.ndarray]:
    """The reference set of a fit, and its rows in the fit set."""
    rows = choose(labels, seed)
    xy, nearest = layout(vectors[rows], seed)
    threshold = float(np.quantile(nearest, NOVEL_QUANTILE)) if len(rows) > 1 else -1.0
    refs = vectors[rows]
    cells = knn.cells_for(refs, seed)
    return Reference(refs, labels[rows].astype(np.int64), xy, threshold, cells), rows


def rebuild(vectors: np.ndarray, labels: np.ndarray, xy: np.ndarray, seed: int) -> Reference:
    """The reference set of a fitted run in another model's space (after `picsift reembed`):
    chosen from the run's fitted images as `build` chooses, their topics and map positions
    kept, the novelty edge and the neighbour cells measured again among the new vectors."""
    rows = choose(labels, seed)
    refs = vectors[rows]
    n = len(refs)
    if n < 2 or knn.identical(refs):
        nearest = np.ones(n, np.float32)
    else:
        _, distances = knn.knn_graph(refs, min(MAP_NEIGHBORS, n - 1), seed)
        nearest = 1.0 - distances[:, 1]
    threshold = float(np.quantile(nearest, NOVEL_QUANTILE)) if n > 1 else -1.0
    return Reference(
        refs,
        labels[rows].astype(np.int64),
        np.asarray(xy[rows], np.float32),
        threshold,
        knn.cells_for(refs, seed),
    )
