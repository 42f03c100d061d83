"""The search service: no web framework here, so the API and the CLI share it."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from picsift.errors import InputError, NotFoundError
from picsift.store import Filter, HasId, Hit, ImageStore, Match, Record
from picsift.store.filters import Condition
from picsift.store.records import PayloadSelect
from search.encoding import TextVectors, combine
from search.fused import FusedRanking, Fusion
from search.grouping import GROUP_SCAN_MAX, first_of_groups
from search.matches import Matches, Relevance
from search.posts import HIT_FIELDS, hit_shape, page
from search.query import SearchRequest
from search.sorting import (
    SORT_DEPTH,
    SORT_NEEDS_END,
    browse_by_engagement,
    by_engagement,
    with_payloads,
)
from search.stored import in_saved_order, with_stored
from topics.table import OUTLIER, list_topics

if TYPE_CHECKING:
    from picsift.models.protocols import Encoder

BROWSE_ORDER = "first_seen"  # browsing lists the newest images first


NOT_WITHOUT_Q = "q: `not` subtracts from a query; give one, e.g. 'red circle'"
MIN_SCORE_WITHOUT_Q = (
    "min_score: scores measure similarity to a query; give q (or search by image), "
    "or leave min_score out to list every image matching the filters"
)
PAYLOAD_BATCH = 1000  # payloads read at a time while a long ranking streams


@dataclass
class SearchResult:
    """Hits in the architecture's hit shape, best first, and how many there are in all:
    `matched` images match the filters (and score at least `min_score`; by score, counted
    up to `MATCH_COUNT_CAP`, `matched_capped` past it). `relevance` (text queries, image
    and hybrid modes) says where the image ranking's strong matches end."""

    query: str
    hits: list[dict[str, Any]]
    matched: int | None = None
    matched_capped: bool = False
    min_score: float | None = None
    relevance: dict[str, Any] | None = None
    mode: str = "image"


class SearchService:
    """Text- and image-to-image search over a store, with filters and topic labels."""

    def __init__(
        self, store: ImageStore, encoder: Encoder, thumb_url: str = "/api/images/{id}/thumb"
    ):
        self.store = store
        self.texts = TextVectors(encoder)
        self.matches = Matches(store, lambda texts: self.texts(tuple(texts)))
        self.fusion = Fusion(store)
        self.thumb_url = thumb_url
        self._labels: dict[int, str] | None = None
        self._labels_lock = threading.Lock()

    def search(self, request: SearchRequest) -> SearchResult:
        """Run a text search (validated here; with no mode, see `SearchRequest.resolved`),
        with where the image ranking's strong matches end (image and hybrid modes)."""
        request = self.with_stored(request.validate().resolved(self.fusion.has_text))
        vector = self.text_vector(request)
        if request.mode == "image":
            result = self._run(vector, request, exclude=())
        else:
            result = self._fused(vector, request)
        if request.mode != "text":
            result.relevance = self.matches.relevance(vector, request.to_filter()).to_dict()
        return result

    def relevance(self, request: SearchRequest) -> Relevance:
        """Where the strong matches of a request's text query end (among its filters)."""
        request = self.with_stored(request)
        return self.matches.relevance(self.text_vector(request), request.to_filter())

    def browse(self, request: SearchRequest) -> SearchResult:
        """The images matching the request's filters, newest first (by `first_seen`, ties by
        id; with `sort`, most engaged first; a saved selection's in its saved order), paged
        and grouped like a search; hits have no score. `not` needs a query: an error here.

        Raises:
            InputError: `not` or `min_score` without `q`, or a bad filter (naming the
                parameter).
        """
        if request.negatives:
            raise InputError(NOT_WITHOUT_Q)
        if request.min_score is not None:
            raise InputError(MIN_SCORE_WITHOUT_Q)
        request = self.with_stored(replace(request, q=()).validate(require_query=False))
        self.check_topics(request.topics + request.exclude_topics)
        flt = request.to_filter()

        def fetch(limit: int, offset: int) -> list[Record]:
            return self.store.images.newest(
                BROWSE_ORDER, flt, limit=limit, offset=offset, with_payload=HIT_FIELDS
            )

        if request.sort == "engagement":
            fetch = browse_by_engagement(self.store, request, HIT_FIELDS)
        elif request.selection_ids is not None:  # a saved selection lists in its saved order
            order = in_saved_order(self.store, request.selection_ids, flt)

            def fetch(limit: int, offset: int) -> list[Record]:
                page = [Record(i, {}) for i in order[offset : offset + limit]]
                return with_payloads(self.store, page, HIT_FIELDS)

        hits = self._grouped(fetch, request) if request.group_by else fetch(*_page(request))
        labels = self.topic_labels()
        matched, _ = self.matches.count(None, flt, None)
        return SearchResult("", [hit_shape(h, labels, self.thumb_url) for h in hits], matched)

    def similar(self, image_id: str, request: SearchRequest) -> SearchResult:
        """Images like a stored one (itself left out), optionally mixed with text terms. From
        a video frame, the other frames of its video are left out too: they are not variants
        of it, and would fill the first page.

        Raises:
            NotFoundError: no image with that id.
        """
        request = self.with_stored(request.validate(require_query=False))
        _image_mode_only(request)
        records = self.store.images.retrieve(
            [image_id], with_payload=["video_id"], with_vectors=True
        )
        if not records or records[0].vector is None:
            raise NotFoundError(f"id: no image {image_id} in the store")
        exclude: tuple[Condition, ...] = (HasId((image_id,)),)
        if records[0].payload.get("video_id"):
            exclude += (Match("video_id", records[0].payload["video_id"]),)
        vector = self._mix(records[0].vector, request)
        return self._run(vector, request, exclude=exclude)

    def search_image(self, image: Any, request: SearchRequest) -> SearchResult:
        """Images like an uploaded (decoded) one, optionally mixed with text terms."""
        request = self.with_stored(request.validate(require_query=False))
        _image_mode_only(request)
        return self._run(self._mix(self.texts.image(image), request), request, exclude=())

    def text_vector(self, request: SearchRequest) -> np.ndarray:
        """The query vector of a request's positive and negative terms."""
        positive = self.texts(request.terms)
        negative = self.texts(request.negatives) if request.negatives else None
        return combine(positive, negative)

    def _mix(self, vector: np.ndarray, request: SearchRequest) -> np.ndarray:
        positive = np.asarray(vector, np.float32)[None, :]
        if request.terms:
            positive = np.concatenate([positive, self.texts(request.terms)])
        negative = self.texts(request.negatives) if request.negatives else None
        return combine(positive, negative)

    def _run(
        self, vector: np.ndarray, request: SearchRequest, exclude: tuple[Condition, ...]
    ) -> SearchResult:
        """The ranked page of a query vector under the request's filters, none of the
        `exclude` conditions holding for a hit."""
        self.check_topics(request.topics + request.exclude_topics)
        flt = request.to_filter()
        if exclude:
            base = flt or Filter()
            flt = Filter(base.must, base.should, (*base.must_not, *exclude))

        def fetch(limit: int, offset: int) -> list[Hit]:
            return self.store.images.ranking(
                vector,
                filter=flt,
                limit=limit,
                offset=offset,
                with_payload=HIT_FIELDS,
                score_threshold=request.min_score,
            )

        if request.sort == "engagement":
            if request.min_score is None:
                raise InputError(SORT_NEEDS_END)
            ranked = self.store.images.ranking(
                vector,
                filter=flt,
                limit=SORT_DEPTH + 1,
                with_payload=False,
                score_threshold=request.min_score,
            )
            fetch = by_engagement(self.store, ranked, request, HIT_FIELDS)
        hits = self._grouped(fetch, request) if request.group_by else fetch(*_page(request))
        labels = self.topic_labels()
        matched, capped = self.matches.count(vector, flt, request.min_score)
        return SearchResult(
            " ".join(request.terms),
            [hit_shape(h, labels, self.thumb_url) for h in hits],
            matched,
            capped,
            request.min_score,
        )

    def _fused(self, vector: np.ndarray, request: SearchRequest) -> SearchResult:
        """A text or hybrid search: one fused ranking, paged (or grouped), each hit with its
        evidence (see `search.fused`)."""
        self.check_topics(request.topics + request.exclude_topics)
        fetch, ranking = self._fused_fetch(vector, request, HIT_FIELDS)
        if request.sort == "engagement":
            if request.mode == "hybrid":
                raise InputError(SORT_NEEDS_END)
            fetch = by_engagement(self.store, ranking.hits, request, HIT_FIELDS, ranking.capped)
        hits = self._grouped(fetch, request) if request.group_by else fetch(*_page(request))
        labels = self.topic_labels()
        evidence = self.fusion.evidence(hits, ranking.query, vector)
        return SearchResult(
            " ".join(request.terms),
            [hit_shape(h, labels, self.thumb_url) | {"evidence": evidence[h.id]} for h in hits],
            len(ranking.hits),
            ranking.capped,
            request.min_score,
            mode=request.mode,
        )

    def _fused_fetch(
        self, vector: np.ndarray, request: SearchRequest, fields: PayloadSelect
    ) -> tuple[Callable[[int, int], list[Hit]], FusedRanking]:
        """`fetch(limit, offset)` over the request's fused ranking (hits with `fields`)."""
        flt = request.to_filter()
        ranking = self.fusion.ranking(request.mode, request.terms, vector, flt, request.min_score)

        def fetch(limit: int, offset: int) -> list[Hit]:
            return with_payloads(self.store, ranking.hits[offset : offset + limit], fields)

        return fetch, ranking

    def fused_capped(self, request: SearchRequest) -> bool:
        """Whether a text or hybrid ranking was cut off at a leg's depth (more images match
        than it holds: an export of all of it misses some)."""
        request = self.with_stored(request.resolved(self.fusion.has_text))
        return self._fused_fetch(self.text_vector(request), request, False)[1].capped

    def _grouped(self, fetch: Callable[[int, int], list], request: SearchRequest) -> list:
        """The first hit of each group, groups paged by `offset`/`limit`; `fetch(limit,
        offset)` reads the ungrouped hits in order."""
        assert request.group_by is not None
        firsts = first_of_groups(fetch, request.group_by, GROUP_SCAN_MAX)
        return list(itertools.islice(firsts, request.offset, request.offset + request.limit))

    def groups(self, request: SearchRequest) -> Iterator[Record]:
        """The first image of each group of `request.group_by`, full payloads, in search
        order (with text terms: the same ranking search pages through, with scores) or
        browse order (newest first); without end, so the caller stops."""
        assert request.group_by is not None
        request = self.with_stored(request.resolved(self.fusion.has_text))
        self.check_topics(request.topics + request.exclude_topics)
        flt = request.to_filter()
        if request.terms and request.mode != "image":
            fetch = self._fused_fetch(self.text_vector(request), request, True)[0]
        elif request.terms:
            vector = self.text_vector(request)

            def fetch(limit: int, offset: int) -> list:
                return self.store.images.ranking(
                    vector,
                    filter=flt,
                    limit=limit,
                    offset=offset,
                    score_threshold=request.min_score,
                )
        else:

            def fetch(limit: int, offset: int) -> list:
                return self.store.images.newest(BROWSE_ORDER, flt, limit=limit, offset=offset)

        return first_of_groups(fetch, request.group_by)

    def scroll(self, request: SearchRequest, page_size: int = 1000) -> Iterator[Hit]:
        """Every image matching the request's filters (no ranking), score 0; a saved
        selection's in its saved order, others in id order."""
        request = self.with_stored(request)
        self.check_topics(request.topics + request.exclude_topics)
        flt = request.to_filter()
        if request.selection_ids is None:
            for record in self.store.images.scroll(flt, page_size=page_size):
                yield Hit(id=record.id, payload=record.payload, score=0.0)
            return
        ids, base = request.selection_ids, flt or Filter()
        for start in range(0, len(ids), page_size):
            batch = ids[start : start + page_size]
            both = Filter((*base.must, HasId(batch)), base.should, base.must_not)
            found = {r.id: r for r in self.store.images.scroll(both, page_size=page_size)}
            for image_id in batch:
                if image_id in found:
                    yield Hit(id=image_id, payload=found[image_id].payload, score=0.0)

    def ranked(self, request: SearchRequest, limit: int) -> Iterator[Hit]:
        """The `limit` best images for the request's text terms (those scoring at least
        `min_score`), full payloads, in the ranking that search pages through. The ranking
        is read once, ids only; payloads follow a batch at a time, so memory stays small."""
        request = self.with_stored(request.resolved(self.fusion.has_text))
        self.check_topics(request.topics + request.exclude_topics)
        images = self.store.images
        vector = self.text_vector(request)
        if request.mode != "image":
            fetch = self._fused_fetch(vector, request, False)[0]
            ranking = fetch(limit, 0)
        else:
            ranking = images.ranking(
                vector,
                filter=request.to_filter(),
                limit=limit,
                with_payload=False,
                score_threshold=request.min_score,
            )
        for start in range(0, len(ranking), PAYLOAD_BATCH):
            batch = ranking[start : start + PAYLOAD_BATCH]
            payloads = {r.id: r.payload for r in images.retrieve([h.id for h in batch])}
            for hit in batch:
                if hit.id in payloads:
                    yield Hit(id=hit.id, payload=payloads[hit.id], score=hit.score)

    def posts(self, image_id: str, offset: int, limit: int) -> dict[str, Any]:
        """A page of an image's posts in full, in stored order (see `search.posts`). The
        store reads every post of the image to slice them (a payload selector cannot), so a
        page costs as much as the image has posts, and a response stays small.

        Raises:
            InputError: `image_id` is not a UUID (ids never reach the store unchecked).
            NotFoundError: no image with that id.
        """
        try:
            image_id = str(uuid.UUID(image_id))
        except ValueError:
            raise InputError(f"id: {image_id[:64]!r} is not an image id (a UUID)") from None
        images = self.store.images
        found = images.retrieve([image_id], with_payload=["posts"]) if self.store.exists else []
        if not found:
            raise NotFoundError(f"id: no image {image_id} in the store")
        return page(image_id, found[0].payload.get("posts") or [], offset, limit)

    def with_stored(self, request: SearchRequest) -> SearchRequest:
        """The request with what it names read from the store (see `search.stored`)."""
        return with_stored(self.store, request)

    def check_topics(self, topics: tuple[int, ...]) -> None:
        """Raise InputError for topic ids the current run does not have."""
        if not topics:
            return
        labels = self.topic_labels()
        if not labels:
            raise InputError("topic: no topics yet; fit them first (picsift topics fit)")
        unknown = sorted({t for t in topics if t not in labels and t != OUTLIER})
        if unknown:
            have = sorted(labels)
            listed = ", ".join(map(str, have[:50])) + (", ..." if len(have) > 50 else "")
            raise InputError(
                f"topic: no topic {', '.join(map(str, unknown))} in the current topic run "
                f"(its topics: {listed})"
            )

    def topic_labels(self) -> dict[int, str]:
        """Labels of the current topic run (empty before topics are fitted); cached until
        `invalidate()`."""
        with self._labels_lock:
            if self._labels is None:
                self._labels = {t.topic: t.label for t in list_topics(self.store)}
            return self._labels

    def invalidate(self) -> None:
        """Forget cached topic labels, match counts and whether images have text (after an
        index job, a fit, assign, rename or merge)."""
        with self._labels_lock:
            self._labels = None
        self.matches.reset()
        self.fusion.reset()


def _page(request: SearchRequest) -> tuple[int, int]:
    return request.limit, request.offset


def _image_mode_only(request: SearchRequest) -> None:
    """Searches from an image rank by the image: refuse another mode instead of ignoring it."""
    if request.mode not in (None, "image"):
        raise InputError(
            f"mode: {request.mode} ranks a text query's words; a search from an image ranks by "
            "the image (mode=image)"
        )
