"""Researcher edits: rename a topic, merge topics. Both survive refits where the topic persists
(`topics.stable` carries them over), and each is logged in the run's `edits.jsonl`."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from picsift.errors import InputError
from picsift.store import Filter, ImageStore, Match, MatchAny, PointData
from picsift.thumbs import THUMB_FIELDS, thumb_key
from topics import storeio
from topics.represent import auto_label, centroid, mmr, write_collage
from topics.table import OUTLIER, TopicInfo, collage_path, get_topic, run_dir, topic_point_id

MAX_LABEL = 200
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _log(data_dir: Path, run: str, entry: dict[str, Any]) -> None:
    path = run_dir(Path(data_dir), run) / "edits.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **entry}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _clean_label(label: str) -> str:
    """One behaviour for the CLI and the API: whitespace runs collapsed, and no control or
    text-direction characters (a label is shown in terminals, CSV cells and the UI)."""
    label = " ".join(label.split())
    if not label:
        raise InputError("label: must not be empty")
    if _UNPRINTABLE.search(label):
        raise InputError("label: contains control or text-direction characters; send plain text")
    if len(label) > MAX_LABEL:
        raise InputError(f"label: at most {MAX_LABEL} characters (got {len(label)})")
    return label


def _editable(store: ImageStore, topic: int) -> TopicInfo:
    if topic == OUTLIER:
        raise InputError("topic -1 holds the outliers and unassigned images; it cannot be edited")
    return get_topic(store, topic)


def rename_topic(store: ImageStore, data_dir: Path, topic: int, label: str) -> TopicInfo:
    """Give a topic a label of the researcher's own (kept by later refits).

    Raises:
        InputError: no such topic, topic -1, or an empty label.
    """
    label = _clean_label(label)
    info = _editable(store, topic)
    info.label, info.renamed = label, True
    store.topics.set_payloads([(topic_point_id(topic), {"label": label, "renamed": True})])
    _log(data_dir, info.run, {"edit": "rename", "topic": topic, "label": label})
    return info


def merge_topics(
    store: ImageStore, data_dir: Path, topics: Sequence[int], label: str | None = None
) -> TopicInfo:
    """Merge topics into the first one given: its id stays, the others' images move to it.

    Raises:
        InputError: fewer than two distinct topics, topic -1, an unknown topic, or an empty
            label.
    """
    wanted = list(dict.fromkeys(int(t) for t in topics))
    if len(wanted) < 2:
        raise InputError(f"merge: needs at least two different topics (got {list(topics)})")
    label = _clean_label(label) if label is not None else None
    infos = [_editable(store, t) for t in wanted]
    target, others = infos[0], infos[1:]
    moved = Filter(
        must=(MatchAny("topic", tuple(t.topic for t in others)), Match("topic_run", target.run))
    )
    ids = [r.id for r in store.images.scroll(moved, with_payload=False, page_size=5000)]
    for start in range(0, len(ids), storeio.PAGE):
        page = ids[start : start + storeio.PAGE]
        store.images.set_payloads((i, {"topic": target.topic}) for i in page)

    points = store.topics.retrieve([topic_point_id(t) for t in wanted], with_vectors=True)
    vectors = {TopicInfo.from_payload(p.payload).topic: p.vector for p in points}
    weights = np.array([max(t.count, 1) for t in infos], np.float32)[:, None]
    vector = centroid(storeio.unit(np.stack([vectors[t] for t in wanted])) * weights)

    merged = _combined(store, data_dir, infos, label)
    store.topics.upsert([PointData(topic_point_id(target.topic), vector, merged.to_payload())])
    store.topics.delete([topic_point_id(t.topic) for t in others])
    for other in others:
        collage_path(data_dir, other.run, other.topic).unlink(missing_ok=True)
    absorbed = [t.topic for t in others]
    _log(data_dir, target.run, {"edit": "merge", "topic": target.topic, "merged": absorbed})
    return merged


def _keywords(infos: list[TopicInfo]) -> list[str]:
    """The topics' words interleaved rank by rank, the largest topic's first."""
    words: list[str] = []
    ranked = sorted(infos, key=lambda t: -t.count)
    for position in range(max(len(t.keywords) for t in infos)):
        for info in ranked:
            if position < len(info.keywords) and info.keywords[position] not in words:
                words.append(info.keywords[position])
    return words[:10]


def _centre(infos: list[TopicInfo]) -> list[float]:
    placed = [t for t in infos if t.xy]
    if not placed:
        return []
    weights = np.array([max(t.count, 1) for t in placed], np.float64)
    xy = np.array([t.xy for t in placed], np.float64)
    return [round(float(v), 5) for v in (weights[:, None] * xy).sum(axis=0) / weights.sum()]


def _combined(
    store: ImageStore, data_dir: Path, infos: list[TopicInfo], label: str | None
) -> TopicInfo:
    """The merged topic's table entry; its collage is redrawn from the new representatives."""
    target, others = infos[0], infos[1:]
    rep_ids = list(dict.fromkeys(r for t in infos for r in t.representatives))
    records = store.images.retrieve(rep_ids, with_payload=THUMB_FIELDS, with_vectors=True)
    reps = []
    if records:
        reps = [records[i] for i in mmr(storeio.unit(np.stack([r.vector for r in records])))]
    words = _keywords(infos)
    auto = auto_label(target.topic, words)
    absorbed = {m for t in others for m in (t.topic, *t.merged_from)}
    write_collage(
        data_dir,
        [thumb_key(r.payload) for r in reps],
        collage_path(data_dir, target.run, target.topic),
    )
    return TopicInfo(
        topic=target.topic,
        label=label or (target.label if target.renamed else auto),
        keywords=words,
        count=sum(t.count for t in infos),
        representatives=[r.id for r in reps],
        run=target.run,
        auto_label=auto,
        renamed=bool(label) or target.renamed,
        merged_from=sorted({*target.merged_from, *absorbed}),
        xy=_centre(infos),
    )
