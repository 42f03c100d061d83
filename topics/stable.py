"""Stable topic ids across refits: a saved filter "topic 12" keeps meaning the same topic.

New topics are matched one-to-one to the previous run's topics by centroid similarity (an
optimal assignment, scipy's `linear_sum_assignment`); matched topics keep their ids, the rest
get ids never used before. A topic a researcher merged persists wherever most of a new
topic's images were in it before, so the merge survives the refit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from topics.table import OUTLIER, TopicInfo

NO_PRIOR = -2  # an image that had no topic in the previous run
MATCH_MIN = 0.85  # least centroid similarity for a new topic to take over an old id
MAJORITY = 0.5


@dataclass
class OldTopic:
    """A topic of the previous run: its table entry and centroid."""

    info: TopicInfo
    centroid: np.ndarray


@dataclass
class Matching:
    """Raw (BERTopic) topic -> stable id, and which ids are fresh."""

    ids: dict[int, int]
    fresh: list[int] = field(default_factory=list)
    max_topic: int = -1


def _plurality(prior: Counter[int]) -> tuple[int, float]:
    counted = {t: c for t, c in prior.items() if t != NO_PRIOR}
    if not counted:
        return NO_PRIOR, 0.0
    topic, count = max(counted.items(), key=lambda item: (item[1], -item[0]))
    return topic, count / sum(counted.values())


def match(
    centroids: Mapping[int, np.ndarray],
    sizes: Mapping[int, int],
    priors: Mapping[int, Counter[int]],
    old: Sequence[OldTopic],
    max_topic: int = -1,
) -> Matching:
    """Give each raw topic (>= 0) a stable id; -1 stays -1.

    Args:
        centroids: unit centroid of each raw topic.
        sizes: images per raw topic.
        priors: per raw topic, how many of its images had each previous topic.
        old: the previous run's topics (outliers left out).
        max_topic: the highest id used by any earlier run.
    """
    from scipy.optimize import linear_sum_assignment

    raw = sorted(t for t in centroids if t != OUTLIER)
    ids: dict[int, int] = {OUTLIER: OUTLIER}
    merged_before = {o.info.topic for o in old if o.info.merged_from}
    for topic in raw:
        owner, share = _plurality(priors.get(topic, Counter()))
        if owner in merged_before and share >= MAJORITY:
            ids[topic] = owner
    taken = set(ids.values())
    free_new = [t for t in raw if t not in ids]
    free_old = [o for o in old if o.info.topic not in taken]
    if free_new and free_old:
        new_c = np.stack([centroids[t] for t in free_new])
        old_c = np.stack([o.centroid for o in free_old])
        sims = new_c @ old_c.T
        for r, c in zip(*linear_sum_assignment(-sims), strict=True):
            if sims[r, c] >= MATCH_MIN:
                ids[free_new[r]] = free_old[c].info.topic
    used = [max_topic, *(o.info.topic for o in old), *ids.values()]
    next_id = max(used) + 1
    fresh = []
    for topic in sorted((t for t in raw if t not in ids), key=lambda t: (-sizes[t], t)):
        ids[topic] = next_id
        fresh.append(next_id)
        next_id += 1
    return Matching(ids, fresh, max(next_id - 1, max_topic))


def changes(
    prior: np.ndarray, labels: np.ndarray, old_ids: Sequence[int]
) -> dict[str, dict | list]:
    """How this run's topics relate to the previous run's: RunInfo's kept/merged/split/gone.

    Args:
        prior: each fitted image's previous topic (NO_PRIOR when none).
        labels: each fitted image's stable topic in this run.
        old_ids: the previous run's topic ids.
    """
    pairs = Counter(
        (int(p), int(t))
        for p, t in zip(prior, labels, strict=True)
        if p not in (NO_PRIOR, OUTLIER) and t != OUTLIER
    )
    went: dict[int, Counter[int]] = {}
    came: dict[int, Counter[int]] = {}
    for (p, t), count in pairs.items():
        went.setdefault(p, Counter())[t] += count
        came.setdefault(t, Counter())[p] += count
    current = {int(t) for t in np.unique(labels)} - {OUTLIER}
    kept = {str(t): pairs[(t, t)] for t in sorted(current & set(old_ids))}
    merged: dict[str, list[int]] = {}
    for p, targets in went.items():
        target, count = targets.most_common(1)[0]
        if count > MAJORITY * sum(targets.values()):
            merged.setdefault(str(target), []).append(p)
    split: dict[str, list[int]] = {}
    for t, sources in came.items():
        source, count = sources.most_common(1)[0]
        if count > MAJORITY * sum(sources.values()):
            split.setdefault(str(source), []).append(t)
    return {
        "kept": kept,
        "merged": {k: sorted(v) for k, v in sorted(merged.items()) if len(v) > 1},
        "split": {k: sorted(v) for k, v in sorted(split.items()) if len(v) > 1},
        "gone": sorted(set(old_ids) - current - {OUTLIER}),
    }
