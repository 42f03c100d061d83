"""Where a query's relevance falls off: an edge calibrated by queries that mean nothing.

A cosine score has no meaning of its own: CLIP ranks every image for any text, "tractor" on a
corpus without tractors included, and the scale differs between models (CLIP, SigLIP, a toy
model). So the edge is measured, per store and model, against null queries: generic phrases
("something", "an image") and random letter strings, which describe nothing in particular.
For each null query the contrast is how far its best images stand out from the store's bulk
(mean of its top `PEAK_K` scores minus its median score). The margin is the `NULL_QUANTILE`
quantile of those contrasts. An image stands out for a query (a strong match) when its score
exceeds the query's own median score by more than the margin: more than the best images of
19 in 20 meaningless queries stand out. No image above the edge: "no strong matches".

The median comes from a uniform sample of the store (point ids are content hashes, so the
first ids are a random draw); the null peaks come from the whole store, since the best scores
of a query grow with the number of images searched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from picsift.store import ImageStore

NULL_QUANTILE = 0.95
PEAK_K = 10
SAMPLE_SIZE = 4096
MIN_IMAGES = 50  # below this, a median and a top-10 say nothing about an edge
GENERIC = (
    "something",
    "anything",
    "an object",
    "a thing",
    "things",
    "stuff",
    "a picture",
    "an image",
    "a photo",
    "it",
    "this",
    "the",
)
RANDOM_TEXTS = 64
RANDOM_SEED = 20261202


def null_texts(template: str = "{}") -> list[str]:
    """The null queries, each put into `template` the way real queries or labels are."""
    rng = np.random.default_rng(RANDOM_SEED)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    strings = ["".join(rng.choice(letters, int(rng.integers(3, 9)))) for _ in range(RANDOM_TEXTS)]
    return [template.format(text) for text in (*GENERIC, *strings)]


def sample_vectors(store: ImageStore, size: int = SAMPLE_SIZE) -> np.ndarray:
    """Up to `size` stored vectors, a uniform sample: ids are hashes of the image bytes, so
    the first ones in id order are a random draw."""
    vectors: list[np.ndarray] = []
    for record in store.images.scroll(with_payload=False, with_vectors=True, page_size=size):
        vectors.append(np.asarray(record.vector, np.float32))
        if len(vectors) >= size:
            break
    return np.stack(vectors) if vectors else np.zeros((0, 0), np.float32)


@dataclass(frozen=True)
class NullModel:
    """The calibrated margin of one store and model."""

    margin: float
    n_texts: int
    n_images: int
    sample: int
    quantile: float = NULL_QUANTILE
    peak_k: int = PEAK_K

    def describe(self) -> str:
        """One sentence for a manifest or a tooltip."""
        return (
            f"An image is a strong match when its score exceeds the query's median score "
            f"(over {self.sample:,} sampled images) by more than {self.margin:.3f}: the "
            f"{self.quantile:.0%} quantile, over {self.n_texts} meaningless queries (generic "
            f"phrases, random letters), of how far their best {self.peak_k} images stand "
            f"out from their median, measured on this store's {self.n_images:,} images."
        )


def fit_null(store: ImageStore, null_vectors: np.ndarray, sample: np.ndarray) -> NullModel | None:
    """The margin of `store` from the null queries' vectors; None when the store has fewer
    than `MIN_IMAGES` images (too few to tell)."""
    n_images = store.images.count()
    if n_images < MIN_IMAGES or len(sample) < MIN_IMAGES:
        return None
    medians = np.median(sample @ null_vectors.T, axis=0)
    peaks = np.array(
        [
            np.mean([h.score for h in store.images.query(v, limit=PEAK_K, with_payload=False)])
            for v in null_vectors
        ]
    )
    margin = float(np.quantile(peaks - medians, NULL_QUANTILE))
    return NullModel(margin, len(null_vectors), n_images, len(sample))


@dataclass(frozen=True)
class QueryEdge:
    """One query's median score, its edge (None: the store is too small to tell) and the
    sampled scores behind them."""

    median: float
    edge: float | None
    scores: np.ndarray

    def histogram(self, bins: int = 40) -> tuple[float, float, list[int]]:
        """(lowest, highest, counts) of the sampled scores in `bins` equal bins."""
        scores = self.scores.astype(np.float64)
        lo, hi = float(scores.min()), float(scores.max())
        # Equal scores (one image, copies of one vector) still get bins, around the value.
        low, high = (lo, hi) if hi - lo > 1e-3 else (lo - 5e-4, hi + 5e-4)
        counts, _ = np.histogram(scores, bins=bins, range=(low, high))
        return low, high, [int(c) for c in counts]

    def verdict(self, strong: int | None, capped: bool = False) -> str:
        """In words: how many images stand out for the query, given their count."""
        if self.edge is None or strong is None:
            return (
                f"cannot tell strong matches: the store has fewer than {MIN_IMAGES} images "
                "to calibrate an edge on"
            )
        if strong == 0:
            return (
                f"no strong matches: no top-ranked image scores above {self.edge:.3f}, the "
                "edge where images stand out more than for 19 in 20 meaningless queries; the "
                "ranking below is the model's best guess, not evidence of a match"
            )
        count = f"{strong:,}+" if capped else f"{strong:,}"
        return f"{count} strong matches (score above {self.edge:.3f}; counted in the top 1,000)"


def query_edge(null: NullModel | None, sample: np.ndarray, vector: np.ndarray) -> QueryEdge:
    """The edge of one query vector on a store (sampled vectors and its null model)."""
    scores = sample @ np.asarray(vector, np.float32)
    median = float(np.median(scores))
    return QueryEdge(median, None if null is None else median + null.margin, scores)


def label_edges(null: NullModel, sample: np.ndarray, label_vectors: np.ndarray) -> np.ndarray:
    """Per label, the score above which an image carries it: the label's median over the
    sample plus the margin (the null queries put into the labels' prompt template)."""
    return np.median(sample @ label_vectors.T, axis=0) + null.margin
