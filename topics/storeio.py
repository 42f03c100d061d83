"""Reading the fit set from the store and writing topics back, page by page."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from picsift.progress import Progress
from picsift.store import ImageStore, PointData, Record
from picsift.thumbs import THUMB_FIELDS, thumb_key
from topics.stable import NO_PRIOR, OldTopic
from topics.table import OUTLIER, RunInfo, TopicInfo, run_dir, topic_point_id, topics_dir

PAGE = 1000
PLACE_PAGE = 4096  # images placed together: the neighbour search is faster in larger batches
FIT_FIELDS = ["caption", "tags", *THUMB_FIELDS, "topic", "topic_run"]


@dataclass
class FitSet:
    """The images a topic model is fitted on, row by row."""

    ids: list[str]
    vectors: np.ndarray
    texts: list[str]
    thumbs: list[str | None]  # what each thumbnail is named by (`picsift.thumbs.thumb_key`)
    prior: np.ndarray  # each image's topic in the previous run, NO_PRIOR when it had none


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (stored vectors are; this guards against rounding)."""
    vectors = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def text_of(payload: dict[str, Any]) -> str:
    """The words of an image for topic words: its caption and zero-shot tags."""
    parts = [payload.get("caption") or "", *(payload.get("tags") or [])]
    return " ".join(p for p in parts if isinstance(p, str) and p.strip()).strip()


def _fit_pages(store: ImageStore, total: int, sample: int, seed: int) -> Iterator[list[Record]]:
    if total <= sample:
        page: list[Record] = []
        for record in store.images.scroll(
            with_payload=FIT_FIELDS, with_vectors=True, page_size=PAGE
        ):
            page.append(record)
            if len(page) >= PAGE:
                yield page
                page = []
        if page:
            yield page
        return
    ids = [r.id for r in store.images.scroll(with_payload=False, page_size=5 * PAGE)]
    chosen = np.sort(np.random.default_rng(seed).choice(len(ids), sample, replace=False))
    for start in range(0, sample, PAGE):
        page_ids = [ids[i] for i in chosen[start : start + PAGE]]
        yield store.images.retrieve(page_ids, with_payload=FIT_FIELDS, with_vectors=True)


def read_fit_set(
    store: ImageStore, total: int, sample: int, seed: int, previous: str | None, report: Progress
) -> FitSet:
    """Vectors, words, hashes and previous topics of the images to fit on: all of them, or a
    seeded random sample of `sample` when there are more. Read a page at a time into one
    array, so memory holds the fit set's vectors once."""
    expected = min(total, sample)
    fit = FitSet([], np.empty((0, 0), np.float32), [], [], np.empty(0, np.int64))
    vectors: np.ndarray | None = None
    priors: list[int] = []
    for page in _fit_pages(store, total, sample, seed):
        start = len(fit.ids)
        # The store may change while it is read: the fit keeps to the images counted.
        page = page[: expected - start]
        if not page:
            continue
        if vectors is None:
            vectors = np.empty((expected, len(page[0].vector)), np.float32)
        vectors[start : start + len(page)] = unit(np.stack([r.vector for r in page]))
        fit.ids.extend(r.id for r in page)
        fit.texts.extend(text_of(r.payload) for r in page)
        fit.thumbs.extend(thumb_key(r.payload) for r in page)
        priors.extend(_prior(r.payload, previous) for r in page)
        report("read", len(fit.ids), expected)
    if vectors is not None:
        fit.vectors = vectors[: len(fit.ids)]
    fit.prior = np.array(priors, np.int64)
    return fit


def _prior(payload: dict[str, Any], previous: str | None) -> int:
    topic = payload.get("topic")
    if previous is None or payload.get("topic_run") != previous or not isinstance(topic, int):
        return NO_PRIOR
    return topic


def vector_pages(
    store: ImageStore, skip: set[str] | frozenset[str] = frozenset()
) -> Iterator[tuple[list[str], np.ndarray]]:
    """(ids, unit vectors) of every image not in `skip`, a page at a time."""
    page: list[Record] = []
    for record in store.images.scroll(with_payload=False, with_vectors=True, page_size=PAGE):
        if record.id not in skip:
            page.append(record)
        if len(page) >= PLACE_PAGE:
            yield [r.id for r in page], unit(np.stack([r.vector for r in page]))
            page = []
    if page:
        yield [r.id for r in page], unit(np.stack([r.vector for r in page]))


def old_topics(store: ImageStore) -> list[OldTopic]:
    """The current run's topics with their centroids (outliers left out)."""
    found = []
    for record in store.topics.scroll(with_vectors=True):
        info = TopicInfo.from_payload(record.payload)
        if info.topic != OUTLIER and record.vector is not None:
            found.append(OldTopic(info, unit(record.vector[None, :])[0]))
    return found


def image_updates(
    ids: Sequence[str],
    topics: np.ndarray,
    scores: np.ndarray,
    xy: np.ndarray,
    run: str,
    by: str,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The topic payload of each image, as `set_payloads` takes it."""
    for i, point_id in enumerate(ids):
        yield (
            point_id,
            {
                "topic": int(topics[i]),
                "topic_score": round(float(scores[i]), 4),
                "topic_run": run,
                "topic_by": by,
                "xy": [round(float(xy[i, 0]), 5), round(float(xy[i, 1]), 5)],
            },
        )


def write_images(
    store: ImageStore, updates: Sequence[tuple[str, dict[str, Any]]], report: Progress
) -> None:
    """Set the payloads in pages, reporting progress as "write"."""
    for start in range(0, len(updates), PAGE):
        store.images.set_payloads(updates[start : start + PAGE])
        report("write", min(start + PAGE, len(updates)), len(updates))


def write_table(store: ImageStore, topics: Sequence[TopicInfo], centroids: dict[int, Any]) -> None:
    """Make the topic collection hold exactly these topics."""
    store.topics.upsert(
        [PointData(topic_point_id(t.topic), centroids[t.topic], t.to_payload()) for t in topics]
    )
    keep = {topic_point_id(t.topic) for t in topics}
    stale = [r.id for r in store.topics.scroll(with_payload=False) if r.id not in keep]
    store.topics.delete(stale)


def new_run_id(data_dir: Path) -> str:
    """A run id that sorts by time and never collides with an existing run."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    while True:
        run = f"{stamp}-{secrets.token_hex(2)}"
        if not run_dir(data_dir, run).exists():
            return run


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_run(data_dir: Path, info: RunInfo) -> None:
    """Write `run.json` of a run."""
    _atomic_write(run_dir(data_dir, info.run) / "run.json", json.dumps(info.to_dict(), indent=2))


def set_current(data_dir: Path, run: str) -> None:
    """Name `run` the current run (written last, so a crash leaves the previous one current)."""
    _atomic_write(topics_dir(data_dir) / "current", run + "\n")
