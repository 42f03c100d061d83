"""`assign_topics`: images indexed after a fit get a topic of the current run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from picsift.errors import StoreError
from picsift.progress import Progress
from picsift.store import Filter, HasId, ImageStore, Match
from picsift.store.schema import vector_name as schema_vector_name
from topics import storeio
from topics.reference import Reference
from topics.table import (
    OUTLIER,
    RunInfo,
    TopicInfo,
    current_run,
    list_topics,
    outlier_label,
    run_dir,
    topic_point_id,
)


@dataclass
class AssignReport:
    """How many images got a topic, how many matched none well enough (-1), in which run."""

    assigned: int
    unassigned: int
    run: str | None


def merges(topics: Sequence[TopicInfo]) -> dict[int, int]:
    """Topic -> the topic a researcher merged it into."""
    return {old: t.topic for t in topics for old in t.merged_from}


def reference_path(data_dir: Path, run: RunInfo, vector_name: str) -> Path:
    """Where the run's reference set in the space of `vector_name` is: the fit's own, or one
    `picsift reembed` rebuilt for a later model (`reference-<vector name>.safetensors`)."""
    folder = run_dir(data_dir, run.run) / "model"
    if run.model and schema_vector_name(run.model) == vector_name:
        return folder / "reference.safetensors"
    return folder / f"reference-{vector_name}.safetensors"


def load_reference(data_dir: Path, run: RunInfo, vector_name: str) -> Reference:
    """The reference set of a run, in the space of the store's vectors (`vector_name`).

    Raises:
        StoreError: the run's model files are missing, or the run was fitted on another
            model's vectors and its reference set was not rebuilt for this one.
    """
    path = reference_path(data_dir, run, vector_name)
    if not path.is_file():
        moved = path.name == "reference.safetensors"
        why = (
            f"has no model file {path} (was PICSIFT_DATA moved?)"
            if moved
            else f"was fitted on {run.model!r} vectors, and the store's are now {vector_name!r}"
        )
        raise StoreError(f"topic run {run.run} {why}; fit topics again: picsift topics fit")
    return Reference.load(path)


def assign_topics(
    store: ImageStore,
    data_dir: Path,
    ids: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> AssignReport:
    """Give images that have no topic of the current run (all, or those among `ids`) the
    topic their nearest fitted images vote for, marked `topic_by=assign`.

    Images unlike every fitted image get -1 ("unassigned"). Before the first fit this does
    nothing and says so with `run=None`.
    """
    data_dir = Path(data_dir)
    run = current_run(data_dir)
    if run is None or not store.exists:
        return AssignReport(0, 0, None)
    reference = load_reference(data_dir, run, store.meta.vector_name if store.meta else "")
    topics = list_topics(store)
    merged = merges(topics)
    must = (HasId(tuple(ids)),) if ids is not None else ()
    if ids is not None and not ids:
        return AssignReport(0, 0, run.run)
    todo_filter = Filter(must=must, must_not=(Match("topic_run", run.run),))
    # Ids are collected first: writing topic_run while scrolling a filter on it would shift
    # the pages under the scroll.
    todo = [r.id for r in store.images.scroll(todo_filter, with_payload=False, page_size=5000)]
    assigned = unassigned = 0
    for start in range(0, len(todo), storeio.PLACE_PAGE):
        records = store.images.retrieve(
            todo[start : start + storeio.PLACE_PAGE], with_payload=False, with_vectors=True
        )
        vectors = storeio.unit(np.stack([r.vector for r in records]))
        placed = reference.place(vectors, merges=merged)
        store.images.set_payloads(
            storeio.image_updates(
                [r.id for r in records], placed.topics, placed.scores, placed.xy, run.run, "assign"
            )
        )
        missed = int((placed.topics == OUTLIER).sum())
        unassigned += missed
        assigned += len(records) - missed
        if progress:
            progress("assign", start + len(records), len(todo))
    if todo:
        _recount(store, run, topics)
    return AssignReport(assigned, unassigned, run.run)


def _recount(store: ImageStore, run: RunInfo, topics: Sequence[TopicInfo]) -> None:
    """Counts per topic again; topic -1's label says whether it now holds unassigned images."""
    counts = store.images.facet(
        "topic", Filter(must=(Match("topic_run", run.run),)), limit=len(topics) + 1
    )
    outliers = int(run.params.get("outliers", 0))
    label = outlier_label(outliers, int(counts.get(OUTLIER, 0)) - outliers)
    store.topics.set_payloads(
        (
            topic_point_id(t.topic),
            {"count": int(counts.get(t.topic, 0))}
            | ({"label": label, "auto_label": label} if t.topic == OUTLIER else {}),
        )
        for t in topics
    )
