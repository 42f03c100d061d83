"""After the fit: new images assigned, researcher edits, refits that keep topic ids."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from picsift.errors import InputError
from picsift.models.captioner import Captioner
from picsift.models.runtime import Runtime
from tests.topics.conftest import LATE_PER_CLASS, NEW_PER_CLASS, PER_CLASS, add_images, open_backend
from topics.assign import AssignReport, assign_topics
from topics.edits import merge_topics, rename_topic
from topics.fit import FitParams, fit_topics
from topics.table import OUTLIER, get_topic, list_topics

pytestmark = pytest.mark.slow  # each test fits topics at least once

N = 12 * PER_CLASS
NEW = range(N, N + 12 * NEW_PER_CLASS)
LATE = range(NEW.stop, NEW.stop + 12 * LATE_PER_CLASS)


def topics_of(store, ids) -> list[int]:
    found = {r.id: r.payload for r in store.images.retrieve(ids, with_payload=["topic"])}
    return [found[i]["topic"] for i in ids]


def class_topics(store, shapes, rows) -> dict[int, int]:
    """Each class's most common topic among `rows`."""
    topics = topics_of(store, [shapes.point_id(i) for i in rows])
    by_class: dict[int, Counter] = {}
    for i, topic in zip(rows, topics, strict=True):
        by_class.setdefault(int(shapes.classes[i]), Counter())[topic] += 1
    return {k: c.most_common(1)[0][0] for k, c in by_class.items()}


@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_assign_edit_and_refit(backend, tmp_path, shapes):
    store = open_backend(backend, tmp_path)
    data = tmp_path / "data"
    assert assign_topics(store, data) == AssignReport(0, 0, None)  # no topic run yet
    add_images(store, data, shapes, range(N))
    first = fit_topics(store, data, FitParams())
    fitted = class_topics(store, shapes, range(N))

    new_ids = add_images(store, data, shapes, NEW)
    report = assign_topics(store, data, new_ids)
    assert report.run == first.run and report.assigned + report.unassigned == len(NEW)
    right = sum(
        t == fitted[int(shapes.classes[i])]
        for i, t in zip(NEW, topics_of(store, new_ids), strict=True)
    )
    assert right >= 0.9 * len(NEW)
    for record in store.images.retrieve(new_ids):
        assert record.payload["topic_by"] == "assign" and record.payload["topic_run"] == first.run
        assert len(record.payload["xy"]) == 2
    assert sum(t.count for t in list_topics(store)) == N + len(NEW)
    assert assign_topics(store, data) == AssignReport(0, 0, first.run)  # nothing left to do

    red_circle, green_square, blue_square = fitted[0], fitted[4], fitted[7]
    rename_topic(store, data, red_circle, "  round   red things ")
    merged = merge_topics(store, data, [green_square, blue_square], label="squares")
    assert merged.topic == green_square and merged.merged_from == [blue_square]
    with pytest.raises(InputError, match=f"no topic {blue_square}"):
        get_topic(store, blue_square)
    squares = [i for i in range(N) if shapes.classes[i] in (4, 7)]
    assert set(topics_of(store, [shapes.point_id(i) for i in squares])) <= {green_square}

    late_ids = add_images(store, data, shapes, LATE)
    assign_topics(store, data)  # every image without a topic of the current run
    late = dict(zip(LATE, topics_of(store, late_ids), strict=True))
    assert all(late[i] == green_square for i in LATE if shapes.classes[i] == 7)

    second = fit_topics(store, data, FitParams())
    assert second.previous == first.run and second.max_topic >= first.max_topic
    refitted = class_topics(store, shapes, range(LATE.stop))
    unchanged = [k for k in range(12) if k not in (4, 7)]
    assert sum(refitted[k] == fitted[k] for k in unchanged) >= len(unchanged) - 1
    assert refitted[4] == refitted[7] == green_square  # the merge survived
    assert get_topic(store, red_circle).label == "round red things"
    assert get_topic(store, green_square).label == "squares"
    assert blue_square not in {t.topic for t in list_topics(store)}
    assert {str(fitted[k]) for k in unchanged} & set(second.kept)
    store.close()


def test_sampled_fit_assigns_the_rest(tmp_path, shapes):
    store = open_backend("embedded", tmp_path)
    ids = add_images(store, tmp_path / "data", shapes, range(N))
    info = fit_topics(store, tmp_path / "data", FitParams(sample=132))
    assert info.n_fitted == 132 and info.n_images == N and info.params["sampled"]
    records = store.images.retrieve(ids)
    assert Counter(r.payload["topic_by"] for r in records) == {"fit": 132, "assign": N - 132}
    topics = [r.payload["topic"] for r in records]
    assert adjusted_rand_score(shapes.classes[:N], topics) >= 0.8
    assert sum(t.count for t in list_topics(store)) == N
    store.close()


def test_topics_without_captions_get_words_from_the_captioner(tmp_path, shapes):
    store = open_backend("embedded", tmp_path)
    data = tmp_path / "data"
    ids = add_images(store, data, shapes, range(N), captions=False)
    captioner = Captioner("toy", runtime=Runtime("cpu", "fp32", "test"))
    info = fit_topics(store, data, FitParams(), captioner=captioner)
    made = info.params["captioned_representatives"]
    assert 12 <= made <= 9 * info.params["topics"]
    captioned = [r for r in store.images.retrieve(ids) if r.payload.get("caption")]
    assert len(captioned) == made
    words = {"red", "green", "blue", "yellow", "circle", "square", "triangle"}
    for topic in list_topics(store):
        if topic.topic != OUTLIER:
            assert set(topic.keywords[:2]) <= words and "no words" not in topic.label
    store.close()


def test_identical_images_make_one_topic(tmp_path, shapes):
    from picsift.store import PointData

    store = open_backend("embedded", tmp_path)
    ids = add_images(store, tmp_path / "data", shapes, range(1))
    copies = [str(i) for i in range(1, 8)]
    copies = [f"00000000-0000-0000-0000-00000000000{i}" for i in copies]
    store.images.upsert(
        [PointData(i, shapes.vectors[0], {"caption": "a red circle"}) for i in copies]
    )
    info = fit_topics(store, tmp_path / "data", FitParams())
    assert info.params["topics"] == 1
    records = store.images.retrieve(ids + copies)
    assert {r.payload["topic"] for r in records} == {0}
    assert {tuple(r.payload["xy"]) for r in records} == {(0.5, 0.5)}
    store.close()


def test_nr_topics_reduces_topics(tmp_path, shapes):
    store = open_backend("embedded", tmp_path)
    ids = add_images(store, tmp_path / "data", shapes, range(N))
    info = fit_topics(store, tmp_path / "data", FitParams(nr_topics=4))
    table = {t.topic: t for t in list_topics(store)}
    assert 1 <= info.params["topics"] <= 4
    counts = Counter(topics_of(store, ids))
    assert all(table[t].count == n for t, n in counts.items())
    store.close()


def test_tiny_corpus_is_one_topic(tmp_path, shapes):
    store = open_backend("embedded", tmp_path)
    ids = add_images(store, tmp_path / "data", shapes, range(5))
    fit_topics(store, tmp_path / "data", FitParams(min_topic_size=5))
    assert set(topics_of(store, ids)) == {0}
    assert sum(t.count for t in list_topics(store)) == 5
    store.close()


def test_small_corpus_of_two_kinds_is_two_topics(tmp_path, shapes):
    # 14 images, 7 of each of two classes. (The first 14 rows of the corpus are 12 classes,
    # mostly one image each: how many topics they make depends on UMAP's float arithmetic,
    # which differs between CPUs.)
    rows = [int(i) for k in (0, 7) for i in np.flatnonzero(shapes.classes[:N] == k)[:7]]
    store = open_backend("embedded", tmp_path)
    ids = add_images(store, tmp_path / "data", shapes, rows)
    info = fit_topics(store, tmp_path / "data", FitParams(min_topic_size=3))
    topics = topics_of(store, ids)
    assert info.params["topics"] == 2 and sum(t.count for t in list_topics(store)) == 14
    assert len(set(topics[:7])) == len(set(topics[7:])) == 1 and topics[0] != topics[7]
    store.close()
