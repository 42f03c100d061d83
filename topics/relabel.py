"""`relabel_topics`: words for the current run's topics from the captions and tags stored now.

A fit needs no words (topics come from the vectors), so topics fitted before any captioning or
tagging are labelled `represent.no_words_label`. Once words arrive (`picsift caption`,
`picsift tag`) this recomputes each topic's keywords as a fit does (`topics.words`) and its
automatic label, without a refit: topic ids, members, representatives, map and collages stay,
and so do a researcher's renames and merges (a merged topic's images already carry its id).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from picsift.store import Filter, ImageStore, Match
from topics import storeio
from topics.represent import auto_label
from topics.table import OUTLIER, current_run, list_topics, topic_point_id
from topics.words import topic_words


@dataclass
class RelabelReport:
    """What a relabel did: the run, its topics (-1 left out), how many have words now, and how
    many automatic labels changed."""

    run: str | None
    topics: int = 0
    with_words: int = 0
    changed: int = 0

    def summary(self) -> str:
        """One line for the CLI."""
        if self.run is None:
            return "no topics yet: picsift topics fit"
        return (
            f"topics of run {self.run}: {self.with_words:,} of {self.topics:,} have words, "
            f"{self.changed:,} labels changed"
        )


def _docs_by_topic(store: ImageStore, run: str) -> dict[int, list[str]]:
    """The words of every image in the run (assigned ones too), by its topic now."""
    docs: dict[int, list[str]] = {}
    records = store.images.scroll(
        Filter(must=(Match("topic_run", run),)),
        with_payload=["topic", "caption", "tags"],
        page_size=storeio.PAGE,
    )
    for record in records:
        topic = record.payload.get("topic")
        if isinstance(topic, int):
            docs.setdefault(topic, []).append(storeio.text_of(record.payload))
    return docs


def relabel_topics(store: ImageStore, data_dir: Path) -> RelabelReport:
    """Recompute the keywords and automatic labels of the current run's topics from the
    captions and tags stored now; renamed topics keep their label. Commands that bring words
    (`picsift caption`, `picsift tag`) call it when they are done.

    Args:
        store: the image store (captions, tags and topics are read from it).
        data_dir: PICSIFT_DATA, where the current run is recorded.

    Returns:
        What changed; `run=None` (and nothing done) before the first fit.
    """
    run = current_run(Path(data_dir))
    if run is None or not store.exists:
        return RelabelReport(None)
    table = [t for t in list_topics(store) if t.run == run.run]
    docs = _docs_by_topic(store, run.run)
    words = topic_words({t.topic: docs.get(t.topic, []) for t in table})
    report = RelabelReport(run.run)
    updates = []
    for info in table:
        keywords = words.get(info.topic, [])
        if info.topic == OUTLIER:
            updates.append((topic_point_id(info.topic), {"keywords": keywords}))
            continue
        auto = auto_label(info.topic, keywords, docs.get(info.topic, []))
        report.topics += 1
        report.with_words += bool(keywords)
        report.changed += auto != info.auto_label
        label = info.label if info.renamed else auto
        payload = {"keywords": keywords, "auto_label": auto, "label": label}
        updates.append((topic_point_id(info.topic), payload))
    store.topics.set_payloads(updates)
    return report
