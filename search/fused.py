"""Text and hybrid search: rankings fused in the engine by reciprocal rank, and what each hit's
rank rests on.

A text query's BM25 vector in each of the store's languages is one leg (its best `DEPTH`
points that share a word stem with the query); hybrid adds the image leg (CLIP, the query's
best `DEPTH` images). The engine fuses the legs: a point's score is the sum of 1 / (`RRF_K` +
rank) over the legs it is in (ranks from 0), so it is a rank, not a measure: 0.0167 means
"first in one leg" whatever the query. A hit therefore carries its evidence: the image score
(cosine), the BM25 score in each language, and the words of its text the query matched.

One ranking is computed per request (the legs' depth bounds it: hybrid pages go at most
`DEPTH` images deep per leg) and pages are slices of it, equal scores ordered by id, so pages
fit together without repeats or gaps.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from picsift.errors import InputError
from picsift.store import Filter, HasId, Hit, ImageStore, IsEmpty, Match
from picsift.store.records import Leg, SparseVector
from picsift.text import FIELDS as TEXT_FIELDS
from picsift.text import Bm25Texts, image_text, text_sha
from search.query import Mode

RRF_K = 60  # passed on every fused query: the two backends' defaults are not the same
# How long "no image has text" is believed: a running index job's text phase writes some
# long before the job ends (and resets the answer), captions and OCR still to come.
NO_TEXT_RECHECK_S = 10.0
DEPTH = 1000  # best points each leg brings to the fusion
NO_TEXT = (
    "mode: this store has no text vectors (made before text search); run `picsift store "
    "migrate` to search its text, or use mode=image"
)


@dataclass(frozen=True)
class FusedRanking:
    """A query's fused ranking: hits best first (ids and fusion scores), whether a leg was
    cut off at `DEPTH` (more points match than the ranking holds), and the query's BM25
    vectors (for each hit's evidence)."""

    hits: list[Hit]
    capped: bool
    query: dict[str, SparseVector]


class Fusion:
    """Text and hybrid rankings over a store's text vectors."""

    def __init__(self, store: ImageStore):
        self.store = store
        self._texts: Bm25Texts | None = None
        self._has_text: bool | None = None
        self._checked = 0.0  # when `_has_text` was found
        self._generation = 0  # counts `reset()`s: an answer older than the last is not kept
        self._lock = threading.Lock()

    def has_text(self) -> bool:
        """Whether some image has text vectors made from text (the text phase ran and found
        some); cached until `reset()`, a "no" for `NO_TEXT_RECHECK_S` at most."""
        with self._lock:
            fresh = time.monotonic() - self._checked < NO_TEXT_RECHECK_S
            if self._has_text or (self._has_text is False and fresh):
                return self._has_text
            generation = self._generation
        found = self._find_text()
        with self._lock:
            if generation == self._generation:
                self._has_text, self._checked = found, time.monotonic()
        return found

    def reset(self) -> None:
        """Forget whether the images have text (the store changed)."""
        with self._lock:
            self._generation += 1
            self._has_text = None

    def _find_text(self) -> bool:
        if not self.store.exists or not self.store.has_text_vectors:
            return False
        empty = text_sha(image_text({}), self.store.meta.text_languages)
        texted = Filter(must_not=(IsEmpty("text_sha"), Match("text_sha", empty)))
        page, _ = self.store.images.scroll_page(
            filter=texted, limit=1, offset=None, with_payload=False, with_vectors=False
        )
        return bool(page)

    @property
    def texts(self) -> Bm25Texts:
        """The store's BM25 models (one per language of its text vectors).

        Raises:
            InputError: the store has no text vectors.
        """
        if not self.store.exists:
            _ = self.store.images  # says the store is empty: index some images first
        if not self.store.has_text_vectors:
            raise InputError(NO_TEXT)
        if self._texts is None or self._texts.languages != self.store.meta.text_languages:
            self._texts = Bm25Texts(self.store.meta.text_languages)
        return self._texts

    def ranking(
        self,
        mode: Mode,
        terms: tuple[str, ...],
        vector: np.ndarray | None,
        flt: Filter | None,
        min_score: float | None,
    ) -> FusedRanking:
        """The whole fused ranking of `terms` (text legs) and, in hybrid mode, `vector` (the
        image leg), under `flt`; in text mode `min_score` cuts each language's BM25 score."""
        query = self.texts.query(" ".join(terms))
        legs = [
            Leg(sparse, name, DEPTH, score_threshold=min_score)
            for name, sparse in query.items()
            if sparse.indices
        ]
        if mode == "hybrid" and vector is not None:
            legs.insert(0, Leg(vector, None, DEPTH))
        if not legs:
            return FusedRanking([], False, query)
        images = self.store.images
        hits = images.fuse(legs, k=RRF_K, filter=flt, limit=DEPTH * len(legs))
        # Only a ranking as long as one leg's depth can have a leg cut off there.
        capped = len(hits) >= DEPTH and (
            any(len(self._leg(leg, flt)) >= DEPTH for leg in legs if isinstance(leg.using, str))
            or (mode == "hybrid" and images.count(flt) > DEPTH)
        )
        return FusedRanking(sorted(hits, key=lambda h: (-h.score, h.id)), capped, query)

    def _leg(self, leg: Leg, flt: Filter | None) -> list[Hit]:
        assert isinstance(leg.using, str)
        return self.store.images.sparse_query(
            leg.vector,  # type: ignore[arg-type]
            leg.using,
            filter=flt,
            limit=DEPTH,
            with_payload=False,
            score_threshold=leg.score_threshold,
        )

    def evidence(
        self, hits: list[Hit], query: dict[str, SparseVector], vector: np.ndarray | None
    ) -> dict[str, dict[str, Any]]:
        """Per hit id: `image` (cosine to `vector`, None without one), `text` (BM25 score of
        the `query` vectors per language, 0 where no word matched) and `matched` (the words
        of each part of its text that the query matched)."""
        if not hits:
            return {}
        ids = tuple(h.id for h in hits)
        only = Filter(must=(HasId(ids),))
        images = self.store.images
        image: dict[str, float] = {}
        if vector is not None:
            dense = images.query(
                vector, filter=only, limit=len(ids), exact=True, with_payload=False
            )
            image = {h.id: round(float(h.score), 6) for h in dense}
        text: dict[str, dict[str, float]] = {i: {} for i in ids}
        for name, lang in self.store.meta.text_vectors.items():
            scored = (
                {
                    h.id: h.score
                    for h in images.sparse_query(
                        query[name], name, filter=only, limit=len(ids), with_payload=False
                    )
                }
                if query[name].indices
                else {}
            )
            for i in ids:
                text[i][lang] = round(float(scored.get(i, 0.0)), 6)
        payloads = {r.id: r.payload for r in images.retrieve(list(ids), with_payload=TEXT_FIELDS)}
        return {
            i: {
                "image": image.get(i),
                "text": text[i],
                "matched": self._matched(query, payloads.get(i, {})),
            }
            for i in ids
        }

    def _matched(self, query: dict, payload: dict[str, Any]) -> dict[str, list[str]]:
        parts = image_text(payload).parts
        found = {
            part: self.texts.matched_words(query, "\n".join(pieces))
            for part, pieces in parts.items()
        }
        return {part: words for part, words in found.items() if words}
