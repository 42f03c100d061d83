"""Topics carried over to a re-embedded store (`picsift reembed`), before the switch.

A topic run stays what it was: its topics, labels and the images' topic ids were made from the
earlier model's vectors and captions, and `run.json` keeps saying so (`model`). What moves into
the new model's space is what compares vectors: each topic's vector (the centroid of its fitted
images, as the fit defines it) and the run's reference set, which places images indexed later.
The reference set is written beside the fit's own, named by the new vector name, so the store
still works with the old one until the switch; after it, the run records the re-embed
(`reembedded`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from picsift.store import Filter, ImageStore, IsEmpty, Match, PointData
from topics import storeio
from topics.assign import reference_path
from topics.reference import rebuild
from topics.represent import centroid
from topics.table import current_run

DEFAULT_SEED = 42  # a run recorded without its seed


@dataclass(frozen=True)
class Rebased:
    """What moved: the topics' vectors, and the current run's reference set (images)."""

    run: str | None
    topics: int
    reference: int


def rebase_topics(store: ImageStore, staged: ImageStore, data_dir: Path) -> Rebased:
    """Copy the topic collection into `staged`, each topic's vector the centroid of the new
    vectors of its fitted images, and rebuild the current run's reference set from them.

    `staged` holds every image of `store` with its new vector and its payload.
    """
    topics = list(store.topics.scroll(with_payload=True))
    run = current_run(data_dir)
    if not topics or staged.meta is None:
        return Rebased(run.run if run else None, 0, 0)
    fitted = (
        Filter(must=(Match("topic_run", run.run), Match("topic_by", "fit")))
        if run
        else Filter(must_not=(IsEmpty("topic"),))
    )
    records = list(staged.images.scroll(fitted, with_payload=["topic", "xy"], with_vectors=True))
    if not records:
        vectors = np.zeros((0, staged.meta.dim), np.float32)
    else:
        vectors = storeio.unit(np.stack([r.vector for r in records]))
    labels = np.array([int(r.payload.get("topic", -1)) for r in records], np.int64)

    def vector_of(topic: int) -> np.ndarray:
        members = vectors[labels == topic]
        return centroid(members if len(members) else vectors)  # as the fit does for -1

    staged.topics.upsert(
        [PointData(t.id, vector_of(t.payload["topic"]), t.payload) for t in topics]
    )
    if run is None or not len(records):
        return Rebased(run.run if run else None, len(topics), 0)
    seed = int(run.params.get("seed", DEFAULT_SEED))
    xy = np.array([r.payload.get("xy") or [0.5, 0.5] for r in records], np.float32)
    reference = rebuild(vectors, labels, xy, seed)
    reference.save(reference_path(data_dir, run, staged.meta.vector_name))
    return Rebased(run.run, len(topics), len(reference.vectors))


def record_reembed(data_dir: Path, rebased: Rebased, model: str) -> None:
    """Note in the run's record that its topics now live among `model`'s vectors (after the
    switch: before it, the store's vectors were still the fit's)."""
    run = current_run(data_dir)
    if run is None or run.run != rebased.run:
        return
    note = {
        "model": model,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "reference_images": rebased.reference,
    }
    storeio.save_run(data_dir, replace(run, reembedded=[*run.reembedded, note]))
