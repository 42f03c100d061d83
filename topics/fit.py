"""`fit_topics`: BERTopic on the stored vectors, topic ids written back, stable across refits."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from picsift.errors import InputError
from picsift.progress import Progress
from picsift.store import ImageStore
from topics import stable, storeio
from topics.cluster import Clustering, cluster
from topics.reference import Reference, build
from topics.represent import auto_label, centroid, mmr, write_collage
from topics.stable import OldTopic
from topics.storeio import FitSet
from topics.table import (
    OUTLIER,
    OUTLIER_LABEL,
    RunInfo,
    TopicInfo,
    collage_path,
    current_run,
    outlier_label,
    run_dir,
)

if TYPE_CHECKING:
    from picsift.models.protocols import ImageCaptioner


MAX_SEED = 2**32 - 1  # numpy's and UMAP's random_state range


@dataclass(frozen=True)
class FitParams:
    """How to fit (the CLI's `picsift topics fit` options)."""

    min_topic_size: int = 5  # as in the seed notebooks
    nr_topics: int | None = None  # reduce to this many topics; None = as found
    seed: int = 42  # reproducibility (UMAP random_state etc.)
    sample: int = 50_000  # above this many images, fit on a random sample, assign the rest

    def check(self) -> None:
        """Raises InputError naming the bad parameter."""
        if self.min_topic_size < 2:
            raise InputError(f"--min-topic-size must be at least 2 (got {self.min_topic_size})")
        if self.nr_topics is not None and self.nr_topics < 2:
            raise InputError(f"--nr-topics must be at least 2 (got {self.nr_topics})")
        if not 0 <= self.seed <= MAX_SEED:
            raise InputError(f"--seed must be within 0..{MAX_SEED} (2**32 - 1); got {self.seed}")
        if self.sample < max(self.min_topic_size, 2):
            raise InputError(
                f"--sample must be at least --min-topic-size ({self.min_topic_size}); "
                f"got {self.sample}"
            )


def _quiet(stage: str, done: int, total: int) -> None:
    """No progress reporting."""


def _enough(total: int, store: ImageStore, params: FitParams) -> int:
    """`total` images, or InputError when they are too few to fit topics on."""
    if total == 0:
        raise InputError(
            f"store {store.location} has no images: nothing to fit topics on; "
            "index some first: picsift index SOURCE"
        )
    if total < params.min_topic_size:
        raise InputError(
            f"only {total} image(s) in store {store.location}, fewer than --min-topic-size "
            f"{params.min_topic_size}: index more images or lower --min-topic-size"
        )
    return total


def fit_topics(
    store: ImageStore,
    data_dir: Path,
    params: FitParams = FitParams(),
    *,
    captioner: ImageCaptioner | None = None,
    progress: Progress | None = None,
) -> RunInfo:
    """Fit topics on the stored vectors and write them back; ids stay stable across refits.

    Args:
        store: the image store (vectors and captions are read from it, never re-embedded).
        data_dir: PICSIFT_DATA: thumbnails are read from it; run files are written to it.
        params: fit options.
        captioner: captions representatives of topics with too few words (None: do not).
        progress: called as (stage, done, total).

    Returns:
        The new run's record (also in `PICSIFT_DATA/topics/<run>/run.json`).

    Images need no caption or tags: topics come from the vectors, and those without words are
    labelled as such (`represent.no_words_label`) until `topics.relabel` finds words for them.

    Raises:
        InputError: bad parameters, or an empty or too small store.
    """
    params.check()
    report = progress or _quiet
    data_dir = Path(data_dir)
    total = _enough(store.images.count() if store.exists else 0, store, params)
    previous = current_run(data_dir)
    old = storeio.old_topics(store)
    previous_id = previous.run if previous else (old[0].info.run if old else None)
    fit = storeio.read_fit_set(store, total, params.sample, params.seed, previous_id, report)
    _enough(len(fit.ids), store, params)  # the store may have shrunk since it was counted
    found = cluster(fit, params, captioner, data_dir, report)
    if found.captions:
        store.images.set_payloads((fit.ids[r], {"caption": c}) for r, c in found.captions.items())
    matching = _match(fit, found.labels, old, previous.max_topic if previous else -1)
    labels = np.array([matching.ids[int(t)] for t in found.labels], np.int64)

    report("map", 0, 1)
    reference, ref_rows = build(fit.vectors, labels, params.seed)
    xy = reference.place(fit.vectors, topics=labels).xy
    xy[ref_rows] = reference.xy
    report("map", 1, 1)

    run = storeio.new_run_id(data_dir)
    topics, centroids = _topic_table(fit, labels, found, matching, xy, old, run)
    _save_files(data_dir, run, fit, found, matching, reference, topics, store)
    updates = list(storeio.image_updates(fit.ids, labels, found.scores, xy, run, "fit"))
    storeio.write_images(store, updates, report)
    counts = Counter(labels.tolist())
    if total > len(fit.ids):
        counts += _assign_rest(store, reference, set(fit.ids), run, total - len(fit.ids), report)
    outliers = int((labels == OUTLIER).sum())
    for topic in topics:
        topic.count = counts.get(topic.topic, 0)
        if topic.topic == OUTLIER:
            topic.label = topic.auto_label = outlier_label(outliers, topic.count - outliers)
    storeio.write_table(store, topics, centroids)

    info = RunInfo(
        run=run,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        model=store.meta.model if store.meta else "",
        n_images=total,
        n_fitted=len(fit.ids),
        params={
            **asdict(params),
            "sampled": total > len(fit.ids),
            "reference_images": len(ref_rows),
            "captioned_representatives": len(found.captions),
            "images_with_words": found.worded,
            "topics": sum(1 for t in topics if t.topic != OUTLIER),
            "outliers": outliers,
        },
        previous=previous_id,
        new=matching.fresh,
        max_topic=matching.max_topic,
        **stable.changes(fit.prior, labels, [o.info.topic for o in old]),
    )
    storeio.save_run(data_dir, info)
    storeio.set_current(data_dir, run)
    return info


def _match(fit: FitSet, raw: np.ndarray, old: list[OldTopic], max_topic: int) -> stable.Matching:
    topics = [int(t) for t in np.unique(raw)]
    members = {t: raw == t for t in topics}
    return stable.match(
        {t: centroid(fit.vectors[m]) for t, m in members.items()},
        {t: int(m.sum()) for t, m in members.items()},
        {t: Counter(fit.prior[m].tolist()) for t, m in members.items()},
        old,
        max_topic,
    )


def _keywords(raw_topics: list[int], keywords: dict[int, list[str]], sizes: Counter) -> list[str]:
    """Words of a topic made of one or more raw topics, the largest raw topic's first."""
    words: list[str] = []
    for topic in sorted(raw_topics, key=lambda t: -sizes[t]):
        words.extend(w for w in keywords.get(topic, []) if w not in words)
    return words[:10]


def _topic_table(
    fit: FitSet,
    labels: np.ndarray,
    found: Clustering,
    matching: stable.Matching,
    xy: np.ndarray,
    old: list[OldTopic],
    run: str,
) -> tuple[list[TopicInfo], dict[int, np.ndarray]]:
    """One TopicInfo per stable topic (always one for -1), researcher edits carried over."""
    previous = {o.info.topic: o.info for o in old}
    sizes = Counter(found.labels.tolist())
    topics, centroids = [], {}
    for topic in sorted({*labels.tolist(), OUTLIER}):
        rows = np.flatnonzero(labels == topic)
        sources = [t for t, s in matching.ids.items() if s == topic and t in sizes]
        words = _keywords(sources, found.keywords, sizes)
        docs = [found.captions.get(int(r), fit.texts[r]) for r in rows]
        auto = OUTLIER_LABEL if topic == OUTLIER else auto_label(topic, words, docs)
        before = previous.get(topic)
        renamed = bool(before and before.renamed)
        topics.append(
            TopicInfo(
                topic=topic,
                label=before.label if renamed and before else auto,
                keywords=words,
                count=len(rows),
                representatives=[fit.ids[rows[i]] for i in mmr(fit.vectors[rows])],
                run=run,
                auto_label=auto,
                renamed=renamed,
                merged_from=list(before.merged_from) if before else [],
                xy=[round(float(v), 5) for v in xy[rows].mean(axis=0)] if len(rows) else [],
            )
        )
        centroids[topic] = centroid(fit.vectors[rows] if len(rows) else fit.vectors)
    return topics, centroids


def _save_files(
    data_dir: Path,
    run: str,
    fit: FitSet,
    found: Clustering,
    matching: stable.Matching,
    reference: Reference,
    topics: list[TopicInfo],
    store: ImageStore,
) -> None:
    """The run's model (BERTopic's own safetensors files, plus what picsift needs to place new
    images) and each topic's collage."""
    from picsift.models.registry import resolve

    folder = run_dir(data_dir, run) / "model"
    # BERTopic.load hands this to SentenceTransformer, so it names what loads (the toy
    # model's folder, a local folder, or a hub name), not picsift's short model id.
    embedding_model = resolve(store.meta.model)[0] if store.meta else False
    found.model.save(
        folder / "bertopic",
        serialization="safetensors",
        save_ctfidf=True,
        save_embedding_model=embedding_model,
    )
    reference.save(folder / "reference.safetensors")
    raw = set(found.labels.tolist())
    ids = {str(t): s for t, s in sorted(matching.ids.items()) if t in raw}
    (folder / "ids.json").write_text(json.dumps(ids, indent=2), encoding="utf-8")
    thumb_of = dict(zip(fit.ids, fit.thumbs, strict=True))
    for topic in topics:
        out = collage_path(data_dir, run, topic.topic)
        write_collage(data_dir, [thumb_of[r] for r in topic.representatives], out)


def _assign_rest(
    store: ImageStore, reference: Reference, fitted: set[str], run: str, total: int, report
) -> Counter:
    """Place the images a sampled fit left out; returns images per topic."""
    counts: Counter = Counter()
    done = 0
    for ids, vectors in storeio.vector_pages(store, fitted):
        placed = reference.place(vectors)
        store.images.set_payloads(
            storeio.image_updates(ids, placed.topics, placed.scores, placed.xy, run, "assign")
        )
        counts.update(placed.topics.tolist())
        done += len(ids)
        report("assign", done, total)
    return counts
