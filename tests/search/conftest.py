"""A small real corpus for the API: toy shapes indexed from 4CAT zips and a post table with the
toy CLIP, plus a topic run written in the topic-table contract (topic = colour)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from picsift.settings import Settings
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from tests.indexer.conftest import post_id, write_4cat_zip, write_tiktok_csv
from topics.table import RunInfo, TopicInfo, collage_path, run_dir, topic_point_id, topics_dir

N_PER_ZIP = 60
RUN = "run-test-1"


@dataclass
class Truth:
    """What the corpus holds, known from how it was made."""

    colour: dict[str, str] = field(default_factory=dict)  # image id -> colour
    shape: dict[str, str] = field(default_factory=dict)
    payload: dict[str, dict] = field(default_factory=dict)


@dataclass
class Corpus:
    store: EdgeStore
    encoder: object
    truth: Truth
    root: Path

    def settings(self, **kw) -> Settings:
        return Settings(store=str(self.store.directory), caption_model="none", **kw)


def index_sources(store, encoder, data_dir: Path, sources: list[Path], dataset=None) -> None:
    """Index as `picsift index` does (`indexer.run.run_index`), captions off: the text phase
    runs last, so the posts' text is searchable (and a search with no mode ranks hybrid)."""
    from indexer.cache import IndexCache
    from indexer.reader import MediaReader
    from indexer.run import Sources, TextVectors, run_index

    cache = IndexCache(data_dir)
    with MediaReader() as reader:
        run_index(
            store,
            encoder,
            cache,
            data_dir,
            Sources(tuple(sources), dataset),
            phases=[TextVectors()],
            read=reader.read,
        )
    cache.close()


def write_topic_run(store, data_dir: Path, truth: Truth) -> None:
    """A fitted run as `topics` leaves it: topic ids, scores and map places on the images,
    one topic point per colour, run.json, the `current` pointer and collages."""
    from picsift.models.toy import COLORS, SHAPES

    rng = np.random.default_rng(0)
    updates, members = [], {c: [] for c in COLORS}
    for image_id, colour in truth.colour.items():
        t, s = COLORS.index(colour), SHAPES.index(truth.shape[image_id])
        xy = [float(10 * t + rng.normal()), float(10 * s + rng.normal())]
        payload = {"topic": t, "topic_score": 0.9, "topic_run": RUN, "topic_by": "fit", "xy": xy}
        updates.append((image_id, payload))
        members[colour].append(image_id)
        truth.payload[image_id] |= payload
    store.images.set_payloads(updates)
    vectors = {r.id: r.vector for r in store.images.scroll(with_vectors=True)}
    points = []
    for t, colour in enumerate(COLORS):
        centroid = np.mean([vectors[i] for i in members[colour]], axis=0)
        info = TopicInfo(
            topic=t,
            label=f"{colour} shapes",
            keywords=[colour, "shape"],
            count=len(members[colour]),
            representatives=sorted(members[colour])[:4],
            run=RUN,
            auto_label=f"{colour} shapes",
        )
        centroid /= np.linalg.norm(centroid)
        points.append(PointData(topic_point_id(t), centroid, info.to_payload()))
        path = collage_path(data_dir, RUN, t)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 64), colour).save(path, "JPEG")
    store.topics.upsert(points)
    run = RunInfo(RUN, "2024-01-01T00:00:00+00:00", "toy", len(truth.colour), len(truth.colour))
    run.params = {"min_topic_size": 5, "seed": 42}
    (run_dir(data_dir, RUN) / "run.json").write_text(json.dumps(run.to_dict()))
    (topics_dir(data_dir) / "current").write_text(RUN)


@pytest.fixture(scope="session")
def toy_clip():
    from picsift.models.encoder import ClipEncoder
    from picsift.models.runtime import Runtime

    return ClipEncoder("toy", runtime=Runtime("cpu", "fp32", "test"), batch_size=16)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, toy_clip):
    """120 toy images: zip A + its TikTok table (dataset = the 4CAT key), zip B (dataset
    `second`, posts without authors); topics written by the contract."""
    root = tmp_path_factory.mktemp("api")
    images_a = write_4cat_zip(root / "a.zip", N_PER_ZIP, seed=3)
    write_tiktok_csv(root / "a.csv", N_PER_ZIP + 1, images_a)
    images_b = write_4cat_zip(root / "b.zip", N_PER_ZIP, seed=5, shared=False)
    store = EdgeStore(root / "store")
    data_dir = store.directory
    index_sources(store, toy_clip, data_dir, [root / "a.zip", root / "a.csv"])
    index_sources(store, toy_clip, data_dir, [root / "b.zip"], dataset="second")
    truth = Truth()
    by_post = {("a", post_id(i)): img for i, img in enumerate(images_a)}
    by_post |= {("b", post_id(i)): img for i, img in enumerate(images_b)}
    for record in store.images.scroll():
        posts = record.payload["posts"]
        keys = [("b" if p["dataset"] == "second" else "a", p["post_id"]) for p in posts]
        _, colour, shape = next(by_post[k] for k in keys if k in by_post)
        truth.colour[record.id], truth.shape[record.id] = colour, shape
        truth.payload[record.id] = record.payload
    write_topic_run(store, data_dir, truth)
    yield Corpus(store, toy_clip, truth, root)
    store.close()


@pytest.fixture(scope="module")
def client(corpus):
    """The app over the corpus, reads and writes open."""
    from search.app import create_app

    app = create_app(corpus.settings(), store=corpus.store, encoder=corpus.encoder)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def indexed(make_store, toy_clip, tmp_path):
    """The text corpus (tests/text_corpus.py) indexed with the text phase into a store of
    either backend; (store, ids by post id)."""
    from indexer.run import TextVectors
    from tests.text_corpus import index_corpus

    store = make_store()
    run = index_corpus(store, toy_clip, tmp_path, [TextVectors()])
    assert run.report["text"] == {"written": 6, "failed": []}  # 106: an empty text
    ids = {r.payload["posts"][0]["post_id"]: r.id for r in store.images.scroll()}
    return store, ids
