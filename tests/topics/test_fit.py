"""Fitting topics on a store of toy shapes: classes recovered, everything written back."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sklearn.metrics import adjusted_rand_score

from picsift.errors import InputError
from tests.topics.conftest import DAY, PER_CLASS, T0, add_images, open_backend, posts_of
from topics.edits import merge_topics, rename_topic
from topics.fit import FitParams, fit_topics
from topics.table import (
    OUTLIER,
    OUTLIER_LABEL,
    collage_path,
    current_run,
    get_topic,
    list_topics,
    run_dir,
)
from topics.timeline import timeline

N = 12 * PER_CLASS
pytestmark = pytest.mark.slow  # every test here shares a fit (first one in a process ~30 s)


@pytest.fixture(scope="module", params=["embedded", "server"])
def fitted(request, tmp_path_factory, shapes):
    """A store of 180 captioned toy shapes with topics fitted once."""
    tmp = tmp_path_factory.mktemp(f"fit-{request.param}")
    store = open_backend(request.param, tmp)
    data_dir = tmp / "data"
    ids = add_images(store, data_dir, shapes, range(N))
    info = fit_topics(store, data_dir, FitParams())
    yield store, data_dir, ids, info
    store.close()


def payloads(store, ids):
    found = {r.id: r.payload for r in store.images.retrieve(ids)}
    return [found[i] for i in ids]


def test_fit_recovers_the_twelve_classes(fitted, shapes):
    store, _, ids, info = fitted
    topics = [p["topic"] for p in payloads(store, ids)]
    assert adjusted_rand_score(shapes.classes[:N], topics) >= 0.8
    assert info.n_images == info.n_fitted == N and not info.params["sampled"]
    assert 10 <= info.params["topics"] <= 14


def test_every_image_has_its_topic_fields(fitted):
    store, _, ids, info = fitted
    for p in payloads(store, ids):
        assert isinstance(p["topic"], int) and p["topic_run"] == info.run
        assert p["topic_by"] == "fit" and 0.0 <= p["topic_score"] <= 1.0
        assert len(p["xy"]) == 2 and all(0.0 <= v <= 1.0 for v in p["xy"])


def test_topic_table_words_and_collages(fitted, shapes):
    store, data_dir, ids, info = fitted
    topics = list_topics(store)
    assert topics[-1].topic == OUTLIER and topics[-1].label == OUTLIER_LABEL
    real = [t for t in topics if t.topic != OUTLIER]
    assert len(real) == info.params["topics"]
    assert sum(t.count for t in topics) == N
    labels = {i: shapes.label(k) for k, i in enumerate(ids)}
    for topic in real:
        assert topic.run == info.run and topic.label == topic.auto_label
        assert 1 <= len(topic.representatives) <= 9 and len(topic.xy) == 2
        # The topic's words are the words of the captions of most of its images.
        top = max(set(labels[r] for r in topic.representatives), key=list(labels.values()).count)
        assert set(topic.keywords[:2]) <= set(top.split()), (topic.keywords, top)
        assert collage_path(data_dir, info.run, topic.topic).stat().st_size > 1000
    point = store.topics.retrieve([ids[0]])
    assert point == []  # images and topics live in different collections
    assert get_topic(store, real[0].topic) == real[0]


def test_run_files(fitted):
    _, data_dir, _, info = fitted
    assert current_run(data_dir) == info
    folder = run_dir(data_dir, info.run)
    assert json.loads((folder / "run.json").read_text())["run"] == info.run
    model = folder / "model"
    assert (model / "reference.safetensors").is_file()
    assert list((model / "bertopic").glob("*.safetensors"))
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))
    from bertopic import BERTopic

    loaded = BERTopic.load(str(model / "bertopic"))
    assert len(loaded.get_topic_info()) >= info.params["topics"]


def _date(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).date().isoformat()


def test_timeline_counts_posts_per_topic(fitted):
    store, _, ids, _ = fitted
    topic_of = {i: p["topic"] for i, p in zip(ids, payloads(store, ids), strict=True)}
    days: Counter = Counter()
    weeks: Counter = Counter()
    for k, i in enumerate(ids):
        for post in posts_of(k):
            days[(_date(post["ts"]), topic_of[i])] += 1
            monday = T0 + (post["ts"] - T0) // (7 * DAY) * 7 * DAY  # T0 is a Monday
            weeks[(_date(monday), topic_of[i])] += 1
    rows = timeline(store, interval="day")
    assert {(r["period"], r["topic"]): r["posts"] for r in rows} == days
    assert rows == sorted(rows, key=lambda r: (r["period"], r["topic"]))
    rows = timeline(store, interval="week")
    assert {(r["period"], r["topic"]): r["posts"] for r in rows} == weeks
    assert len({r["period"] for r in rows}) == 3


def test_timeline_filter_and_bad_interval(fitted):
    from picsift.store import Filter, Match

    store = fitted[0]
    rows = timeline(store, filter=Filter(must=(Match("posts[].dataset", "telegram"),)))
    # Images posted on telegram are every third one; both their posts count.
    assert sum(r["posts"] for r in rows) == 2 * len(range(0, N, 3))
    with pytest.raises(InputError, match="interval"):
        timeline(store, interval="month")


@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_bad_input_is_a_clear_error(backend, tmp_path, shapes):
    store = open_backend(backend, tmp_path)
    with pytest.raises(InputError, match="no images"):
        fit_topics(store, tmp_path / "data", FitParams())
    add_images(store, tmp_path / "data", shapes, range(3))
    with pytest.raises(InputError, match="fewer than --min-topic-size 5"):
        fit_topics(store, tmp_path / "data", FitParams())
    for bad, name in [
        (FitParams(min_topic_size=1), "--min-topic-size"),
        (FitParams(nr_topics=1), "--nr-topics"),
        (FitParams(sample=3), "--sample"),
        (FitParams(seed=-1), "--seed"),
        (FitParams(seed=2**32), "--seed"),
    ]:
        with pytest.raises(InputError, match=name):
            fit_topics(store, tmp_path / "data", bad)
    assert timeline(store) == []  # no topics yet
    store.close()


def test_edits_check_their_input(fitted):
    store, data, _, _ = fitted
    topic = list_topics(store)[0]
    with pytest.raises(InputError, match="no topic 999"):
        rename_topic(store, data, 999, "x")
    with pytest.raises(InputError, match="label: must not be empty"):
        rename_topic(store, data, topic.topic, "   ")
    with pytest.raises(InputError, match="topic -1"):
        rename_topic(store, data, OUTLIER, "noise")
    with pytest.raises(InputError, match="at least two different topics"):
        merge_topics(store, data, [topic.topic, topic.topic])
    with pytest.raises(InputError, match="no topic 999"):
        merge_topics(store, data, [topic.topic, 999])
    assert list_topics(store)[0] == topic  # nothing changed
