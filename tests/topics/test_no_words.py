"""Topics from the vectors alone: captions off and no tags, words filled in later by a relabel
(`picsift caption`, `picsift topics relabel`) without a refit."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

from cli.main import app
from picsift.models.toy import COLORS, SHAPES
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from tests.topics.conftest import PER_CLASS, add_images, open_backend
from topics.assign import assign_topics
from topics.edits import merge_topics, rename_topic
from topics.fit import FitParams, fit_topics
from topics.relabel import relabel_topics
from topics.represent import no_words_label
from topics.table import (
    BOTH_LABEL,
    OUTLIER,
    OUTLIER_LABEL,
    UNASSIGNED_LABEL,
    collage_path,
    get_topic,
    list_topics,
    outlier_label,
)

pytestmark = pytest.mark.slow  # each test fits topics

N = 12 * PER_CLASS
COLOURS_AND_SHAPES = {"red", "green", "blue", "yellow", "circle", "square", "triangle"}
runner = CliRunner()


def topics_of(store, shapes, rows) -> list[int]:
    ids = [shapes.point_id(i) for i in rows]
    found = {r.id: r.payload["topic"] for r in store.images.retrieve(ids, with_payload=["topic"])}
    return [found[i] for i in ids]


def class_topics(store, shapes, rows) -> dict[int, int]:
    """Each class's most common topic among `rows`."""
    by_class: dict[int, Counter] = {}
    for i, topic in zip(rows, topics_of(store, shapes, rows), strict=True):
        by_class.setdefault(int(shapes.classes[i]), Counter())[topic] += 1
    return {k: c.most_common(1)[0][0] for k, c in by_class.items()}


def caption_all(store, shapes, rows) -> None:
    store.images.set_payloads((shapes.point_id(i), {"caption": shapes.label(i)}) for i in rows)


def test_fit_from_vectors_alone_then_api_and_assign(tmp_path, shapes, monkeypatch):
    store = open_backend("embedded", tmp_path)
    data = tmp_path / "data"
    add_images(store, data, shapes, range(N), captions=False)
    info = fit_topics(store, data, FitParams())
    assert info.params["images_with_words"] == 0 and info.params["topics"] >= 10
    assert adjusted_rand_score(shapes.classes[:N], topics_of(store, shapes, range(N))) >= 0.8
    topics = list_topics(store)
    assert topics[-1].topic == OUTLIER and topics[-1].label == OUTLIER_LABEL
    for topic in topics[:-1]:
        assert topic.label == topic.auto_label == no_words_label(topic.topic)
        assert topic.keywords == [] and 1 <= len(topic.representatives) <= 9
        assert len(topic.xy) == 2 and topic.count >= 5
        assert collage_path(data, info.run, topic.topic).stat().st_size > 1000
    fitted = class_topics(store, shapes, range(N))

    again = fit_topics(store, data, FitParams())  # stable ids without words
    assert again.previous == info.run and not again.new and not again.gone
    assert class_topics(store, shapes, range(N)) == fitted

    from picsift.settings import Settings
    from search.app import create_app

    monkeypatch.chdir(tmp_path)
    settings = Settings(store=str(tmp_path / "store"), data=data, caption_model="none")
    with TestClient(create_app(settings, store=store, encoder=shapes_encoder())) as client:
        body = client.get("/api/topics").json()
        assert body["run"]["run"] == again.run
        for topic in body["topics"]:
            assert topic["label"] and (topic["topic"] == OUTLIER) == ("outlier" in topic["label"])
            assert client.get(topic["collage_url"]).status_code == 200
        first = body["topics"][0]
        assert first["label"] == f"topic {first['topic']} (no words yet)"
        assert client.get("/api/topics/map").json()["total"] == N
        rows = client.get("/api/export", params={"format": "ndjson"}).iter_lines()
        exported = [json.loads(line) for line in rows if line.strip()]
        labelled = [r for r in exported if r.get("topic") == first["topic"]]
        assert labelled and {r["topic_label"] for r in labelled} == {first["label"]}

    # An image like no fitted one is unassigned, and topic -1 now says so.
    odd = np.random.default_rng(3).normal(size=shapes.vectors.shape[1]).astype(np.float32)
    odd_id = "00000000-0000-0000-0000-0000000000aa"
    store.images.upsert([PointData(odd_id, odd / np.linalg.norm(odd), {"caption": None})])
    report = assign_topics(store, data, [odd_id])
    assert report.unassigned == 1
    assert get_topic(store, OUTLIER).label == UNASSIGNED_LABEL  # the fit left no outliers
    store.close()


def shapes_encoder():
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime

    return ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=16)


def test_relabel_keeps_renames_and_merges(tmp_path, shapes):
    store = open_backend("server", tmp_path)
    data = tmp_path / "data"
    add_images(store, data, shapes, range(N), captions=False)
    assert relabel_topics(store, data).run is None  # nothing fitted yet
    info = fit_topics(store, data, FitParams())
    fitted = class_topics(store, shapes, range(N))
    red_circle, green_square, blue_square = fitted[0], fitted[4], fitted[7]
    rename_topic(store, data, red_circle, "round red things")
    merged = merge_topics(store, data, [green_square, blue_square])
    assert merged.label == no_words_label(green_square)
    before = {t.topic: t for t in list_topics(store)}

    caption_all(store, shapes, range(N))
    report = relabel_topics(store, data)
    assert report.run == info.run and report.with_words == report.topics == len(before) - 1
    after = {t.topic: t for t in list_topics(store)}
    assert after.keys() == before.keys() and blue_square not in after
    assert after[red_circle].label == "round red things" and after[red_circle].renamed
    assert set(after[red_circle].auto_label.split(", ")) == {"red", "circle"}
    squares = after[green_square]
    assert squares.merged_from == [blue_square] and squares.label == squares.auto_label
    assert "square" in squares.label.split(", ")
    for k, topic in fitted.items():
        kept = after[topic if k != 7 else green_square]
        assert kept.representatives == before[kept.topic].representatives
        if topic not in (red_circle, green_square, blue_square):
            assert set(kept.label.split(", ")) == {COLORS[k // 3], SHAPES[k % 3]}
    assert relabel_topics(store, data).changed == 0  # nothing new: the same words again
    store.close()


def test_partial_words_label_the_topics_that_have_them(tmp_path, shapes):
    store = open_backend("embedded", tmp_path)
    data = tmp_path / "data"
    add_images(store, data, shapes, range(N), captions=False)
    worded = [i for i in range(N) if shapes.classes[i] < 6]  # red and green shapes
    caption_all(store, shapes, worded)
    info = fit_topics(store, data, FitParams())
    assert info.params["images_with_words"] == len(worded)
    fitted = class_topics(store, shapes, range(N))
    for k, topic in fitted.items():
        label = get_topic(store, topic).label
        if k < 6:
            assert "no words" not in label and set(label.split(", ")) <= COLOURS_AND_SHAPES
        else:
            assert label == no_words_label(topic)
    store.close()


def test_caption_command_relabels_and_relabel_command(tmp_path, shapes):
    store_dir = tmp_path / "store"
    with EdgeStore(store_dir) as store:
        add_images(store, store_dir, shapes, range(N), captions=False)

    def cli(*argv, **env):
        return runner.invoke(app, ["--store", str(store_dir), *argv], env=env)

    assert "no topics yet" in cli("topics", "relabel").output
    result = cli("topics", "fit", "--no-captions")
    assert result.exit_code == 0, result.output
    assert "0 of 180 images have a caption or tags" in result.output
    listed = json.loads(cli("topics", "list", "--json").output)["topics"]
    real = [t for t in listed if t["topic"] != OUTLIER]
    assert all(t["label"] == no_words_label(t["topic"]) for t in real)
    first, second, third = (t["topic"] for t in real[:3])
    assert cli("topics", "rename", str(first), "my topic").exit_code == 0
    assert cli("topics", "merge", str(second), str(third)).exit_code == 0

    result = cli("caption", PICSIFT_CAPTION_MODEL="toy")
    assert result.exit_code == 0, result.output
    assert f"captions: {N} written" in result.output
    assert f"{len(real) - 1} of {len(real) - 1} have words" in result.output, result.output
    labels = {t["topic"]: t for t in json.loads(cli("topics", "list", "--json").output)["topics"]}
    assert labels[first]["label"] == "my topic" and third not in labels
    assert labels[second]["merged_from"] == [third]
    for topic, t in labels.items():
        if topic not in (OUTLIER, first):
            assert "no words" not in t["label"] and set(t["keywords"][:1]) <= COLOURS_AND_SHAPES

    result = cli("topics", "relabel")
    assert result.exit_code == 0 and "0 labels changed" in result.output, result.output
    assert "my topic" in cli("topics", "list").output


def test_caption_job_relabels_like_the_command(tmp_path, shapes, monkeypatch):
    """The server's caption job is `picsift caption`: topics fitted before the captions get
    their words (the job used to write captions and leave the labels 'no words yet')."""
    from picsift.settings import Settings
    from search.app import create_app
    from tests.search.test_api_jobs import wait

    store = open_backend("embedded", tmp_path)
    data = tmp_path / "data"
    add_images(store, data, shapes, range(N), captions=False)
    fit_topics(store, data, FitParams())
    monkeypatch.chdir(tmp_path)
    settings = Settings(store=str(tmp_path / "store"), data=data, caption_model="toy")
    with TestClient(create_app(settings, store=store, encoder=shapes_encoder())) as client:
        job = wait(client, client.post("/api/jobs/caption").json()["url"])
        assert job["state"] == "done" and job["result"]["written"] == N, job
        relabeled = job["result"]["topics"]
        assert relabeled["with_words"] == relabeled["topics"] == relabeled["changed"] > 0
        labels = [t["label"] for t in client.get("/api/topics").json()["topics"]]
    assert not [label for label in labels if "no words" in label]


def test_outlier_label():
    assert outlier_label(0, 0) == OUTLIER_LABEL and outlier_label(3, 0) == OUTLIER_LABEL
    assert outlier_label(0, 2) == UNASSIGNED_LABEL and outlier_label(3, 2) == BOTH_LABEL
    assert outlier_label(3, -1) == OUTLIER_LABEL  # images removed since the fit


def test_tag_command_relabels(tmp_path, shapes):
    store_dir = tmp_path / "store"
    with EdgeStore(store_dir) as store:
        add_images(store, store_dir, shapes, range(N), captions=False)

    def cli(*argv):
        return runner.invoke(app, ["--store", str(store_dir), *argv])

    assert cli("topics", "fit", "--no-captions").exit_code == 0
    codebook = tmp_path / "codebook.txt"
    codebook.write_text("\n".join(f"{c} {s}" for c in COLORS for s in SHAPES) + "\n")
    result = cli("tag", str(codebook), "--top-k", "1")
    assert result.exit_code == 0, result.output
    assert "have words" in result.output, result.output
    listed = json.loads(cli("topics", "list", "--json").output)["topics"]
    worded = [t for t in listed if t["topic"] != OUTLIER and "no words" not in t["label"]]
    assert len(worded) >= 0.8 * (len(listed) - 1)
