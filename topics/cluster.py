"""BERTopic on stored vectors: UMAP + HDBSCAN clusters, c-TF-IDF words from captions and tags.

The seed notebooks run `fit_transform(documents=None, images=...)` with BERTopic's
`VisualRepresentation`, which captions each topic's representative images and computes the
topic words from those captions. That class calls transformers' removed `image-to-text`
pipeline, so `CaptionWords` plugs into the same place with picsift's captioner: BERTopic calls
its `image_to_text` after clustering and before c-TF-IDF. It hands back each image's stored
caption and tags, and captions the representatives of topics that have too few words.

Words are only the topics' representation: with none at all (captions off, no tags) the fit
still clusters the vectors (`topics.words` keeps c-TF-IDF working), and the topics get their
words later (`topics.relabel`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from bertopic.representation import BaseRepresentation

from picsift.progress import Progress
from picsift.thumbs import thumb_path
from topics import knn
from topics.represent import mmr
from topics.storeio import FitSet
from topics.words import TOP_WORDS, padded, real_words, vectorizer

if TYPE_CHECKING:
    from picsift.models.protocols import ImageCaptioner

N_NEIGHBORS = 15  # BERTopic's default UMAP
N_COMPONENTS = 5


@dataclass
class Clustering:
    """What BERTopic found: a raw topic per row (-1 = outlier), words per raw topic."""

    labels: np.ndarray
    scores: np.ndarray
    keywords: dict[int, list[str]]
    model: Any
    captions: dict[int, str] = field(default_factory=dict)  # row -> caption made here
    worded: int = 0  # fitted images with a caption or tags (stored or made here)


class CaptionWords(BaseRepresentation):
    """Topic words from captions: the stored ones, and new ones for representatives that lack
    them (BERTopic's `VisualRepresentation` idea, with picsift's captioner)."""

    def __init__(
        self, fit: FitSet, captioner: ImageCaptioner | None, data_dir: Path, progress: Progress
    ):
        self.fit = fit
        self.captioner = captioner
        self.data_dir = data_dir
        self.progress = progress
        self.captions: dict[int, str] = {}
        self.worded = 0
        # BERTopic only calls `image_to_text` on tuners that have an image-to-text model.
        self.image_to_text_model = captioner or "stored captions"

    def image_to_text(self, documents: pd.DataFrame, embeddings: np.ndarray) -> pd.DataFrame:
        """Each image's words, captioning representatives of topics that have too few."""
        topics = documents.Topic.to_numpy()
        rows = documents.ID.to_numpy().astype(int)
        docs = [self.fit.texts[r] for r in rows]
        if self.captioner is not None:
            self._caption_representatives(topics, rows, embeddings)
            docs = [self.captions.get(r, doc) for r, doc in zip(rows, docs, strict=True)]
        self.worded = sum(1 for d in docs if d.strip())
        return pd.DataFrame({"Document": padded(docs), "ID": rows, "Topic": topics, "Image": rows})

    def extract_topics(self, topic_model: Any, documents, c_tf_idf, topics: dict) -> dict:
        """Keep c-TF-IDF's words (BERTopic hands over 30 per topic; keep the top ones)."""
        return {t: words[: topic_model.top_n_words] for t, words in topics.items()}

    def _caption_representatives(
        self, topics: np.ndarray, rows: np.ndarray, embeddings: np.ndarray
    ) -> None:
        wanted: list[int] = []
        for topic in np.unique(topics):
            if topic == -1:
                continue
            members = np.flatnonzero(topics == topic)
            reps = [int(rows[members[i]]) for i in mmr(embeddings[members])]
            bare = [r for r in reps if not self.fit.texts[r].strip() and r not in self.captions]
            # Most representatives captioned already: the topic has words enough.
            if len(bare) * 2 > len(reps):
                wanted.extend(r for r in bare if self.fit.thumbs[r])
        items = [(r, self.fit.thumbs[r]) for r in wanted]
        captions = self.captioner.caption_sources(items, read=self._thumbnail)
        for done, ((row, _), caption, _) in enumerate(captions, 1):
            if caption:
                self.captions[row] = caption
            self.progress("caption", done, len(items))

    def _thumbnail(self, item: tuple[int, str]) -> Path:
        return thumb_path(self.data_dir, item[1])


def _cluster_models(n: int, params: Any, vectors: np.ndarray) -> tuple[Any, Any]:
    from hdbscan import HDBSCAN
    from umap import UMAP

    neighbors = min(N_NEIGHBORS, n - 1)
    indices, distances = knn.knn_graph(vectors, neighbors, params.seed)
    umap_model = UMAP(
        n_neighbors=neighbors,
        n_components=min(N_COMPONENTS, n - 2),
        min_dist=0.0,
        metric="cosine",
        low_memory=False,
        random_state=params.seed,
        precomputed_knn=(indices, distances, None),
        # Spectral init needs more points than components; tiny sets start at random.
        init="spectral" if n > 4 * N_COMPONENTS else "random",
    )
    hdbscan_model = HDBSCAN(
        min_cluster_size=params.min_topic_size,
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=False,
    )
    return umap_model, hdbscan_model


def cluster(
    fit: FitSet, params: Any, captioner: ImageCaptioner | None, data_dir: Path, progress: Progress
) -> Clustering:
    """Fit BERTopic on the fit set's vectors (never re-embedded) with `CaptionWords`.

    All images identical, too few images for two topics, or no cluster found at all: one
    topic holding every image.
    """
    n = len(fit.ids)
    progress("cluster", 0, 1)
    words = CaptionWords(fit, captioner, data_dir, progress)
    labels = None
    if n >= 2 * params.min_topic_size and not knn.identical(fit.vectors):
        model, labels, scores = _fit(fit.vectors, params, words, None)
        if not (labels >= 0).any():
            labels = None
    if labels is None:
        model, labels, scores = _fit(fit.vectors, params, words, np.zeros(n, np.int64))
    progress("cluster", 1, 1)
    keywords = {
        int(t): real_words(w for w, s in model.get_topic(int(t)) or [] if s > 0)
        for t in np.unique(labels)
    }
    return Clustering(labels, scores, keywords, model, words.captions, words.worded)


def _fit(
    vectors: np.ndarray, params: Any, words: CaptionWords, y: np.ndarray | None
) -> tuple[Any, np.ndarray, np.ndarray]:
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction

    if y is None:
        umap_model, hdbscan_model = _cluster_models(len(vectors), params, vectors)
    else:  # BERTopic's manual mode: the topics are given
        umap_model, hdbscan_model = BaseDimensionalityReduction(), BaseCluster()
    model = BERTopic(
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=vectorizer(),
        representation_model=words,
        min_topic_size=params.min_topic_size,
        nr_topics=params.nr_topics if y is None else None,
        top_n_words=TOP_WORDS,
    )
    rows: Sequence[int] = list(range(len(vectors)))
    with warnings.catch_warnings():
        # UMAP warns that a precomputed graph without a search index cannot `transform`;
        # picsift never asks it to (new images are placed by `topics.reference`).
        warnings.simplefilter("ignore", UserWarning)
        model.fit_transform(None, embeddings=vectors, images=rows, y=y)
    labels = np.asarray(model.topics_, dtype=np.int64)
    probabilities = getattr(model, "probabilities_", None)
    if probabilities is None or np.ndim(probabilities) != 1:
        scores = np.where(labels >= 0, 1.0, 0.0)
    else:
        scores = np.where(labels >= 0, np.asarray(probabilities, dtype=np.float64), 0.0)
    return model, labels, scores
