"""`picsift reembed`: a store's images embedded again with another model, on both backends:
payloads kept, vectors the new model's own (from the originals, else thumbnails), nothing lost
without being said, the switch finished after a crash."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from picsift.errors import StoreError
from picsift.models.decode import decode_image
from picsift.models.runtime import Runtime
from picsift.models.siglip import SiglipEncoder
from picsift.models.toy import sample
from picsift.settings import Settings
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from picsift.thumbs import THUMB_SIDE, thumb_path, write_thumb
from search import tasks
from tests.models.siglip_tiny import HIDDEN, tiny_siglip

N = 6
FP32 = Runtime("cpu", "fp32", "test")


@pytest.fixture(scope="module")
def siglip(tmp_path_factory):
    return tiny_siglip(tmp_path_factory.mktemp("siglip"), "gemma")


@pytest.fixture(scope="module")
def toy_vectors():
    from picsift.models.encoder import ClipEncoder

    images = [image for image, _, _ in sample(N, seed=5)]
    encoder = ClipEncoder("toy", runtime=FP32)
    return images, encoder.embed_images(images)


def _index(store, tmp_path, toy_vectors):
    """N images as the indexer stores them: original files, thumbnails, posts, a caption."""
    images, vectors = toy_vectors
    media, data = tmp_path / "media", tmp_path / "data"
    media.mkdir()
    store.ensure("toy", vectors.shape[1])
    points = []
    for i, image in enumerate(images):
        path = media / f"{i}.png"
        image.save(path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        write_thumb(data, sha, image)
        payload = {
            "sha256": sha,
            "files": [{"path": str(path)}],
            "posts": [{"dataset": "d", "post_id": f"p{i}", "body": f"Brücke {i}"}],
            "datasets": ["d"],
            "caption": f"a shape number {i}",
            "tags": ["tagged"],
        }
        points.append(PointData(str(uuid.UUID(sha[:32])), vectors[i], payload))
    store.images.upsert(points)
    return [p.id for p in points], data


def _payloads(store, ids):
    found = {r.id: r.payload for r in store.images.retrieve(ids)}
    text = {"text_sha", "text_truncated"}  # the text phase's own record, made again
    return [{k: v for k, v in found[i].items() if k not in text} for i in ids]


def _lose(store, ids, i, tmp_path, data):
    """Image i's original file and thumbnail both gone."""
    sha = store.images.retrieve([ids[i]])[0].payload["sha256"]
    (tmp_path / "media" / f"{i}.png").unlink()
    thumb_path(data, sha).unlink()


def _quiet(*_):
    return None


def test_the_store_switches_to_the_new_models_vectors_with_every_payload(
    make_store, tmp_path, toy_vectors, siglip
):
    store = make_store()
    ids, data = _index(store, tmp_path, toy_vectors)
    before = _payloads(store, ids)
    settings = Settings(data=str(data))

    done = tasks.reembed(store, settings, str(siglip), _quiet)

    assert (done["images"], done["embedded"], done["from_thumbnail"]) == (N, N, 0)
    assert done["previous"] == "toy" and not done["dropped"]
    assert store.meta.model == str(siglip) and store.meta.dim == HIDDEN
    assert store.images.count() == N and _payloads(store, ids) == before
    encoder = SiglipEncoder(str(siglip), runtime=FP32)
    first = (tmp_path / "media" / "0.png").read_bytes()
    own = encoder.embed_images([decode_image(first, THUMB_SIDE)[0]])[0]
    stored = store.images.retrieve([ids[0]], with_vectors=True)[0].vector
    assert float(own @ stored) == pytest.approx(1.0, abs=1e-4)
    hits = store.images.query(encoder.embed_texts(["a red circle"])[0], limit=N)
    assert sorted(h.id for h in hits) == sorted(ids)
    assert done["text"]["written"] == N  # the text vectors were made again
    reopened = make_store()
    assert reopened.meta.model == str(siglip) and reopened.images.count() == N
    if make_store.backend == "embedded":
        left = {p.name for p in (tmp_path / "store").iterdir()}
        assert not left & {"reembed", "replaced", "switch.json"}


def test_a_second_reembed_replaces_the_first(make_store, tmp_path, toy_vectors, siglip):
    store = make_store()
    ids, data = _index(store, tmp_path, toy_vectors)
    settings = Settings(data=str(data))
    tasks.reembed(store, settings, str(siglip), _quiet)
    back = tasks.reembed(store, settings, "toy", _quiet)
    assert back["previous"] == str(siglip) and store.meta.model == "toy"
    stored = store.images.retrieve([ids[2]], with_vectors=True)[0].vector
    assert float(stored @ toy_vectors[1][2]) == pytest.approx(1.0, abs=1e-3)
    if make_store.backend == "server":
        names = {c.name for c in store.client.get_collections().collections}
        assert names == {"images-toy", "images-toy_topics"}  # the SigLIP ones went
    with pytest.raises(StoreError, match="already"):
        tasks.reembed(store, settings, "toy", _quiet)


def test_an_image_without_its_original_is_embedded_from_its_thumbnail(
    make_store, tmp_path, toy_vectors, siglip
):
    store = make_store()
    ids, data = _index(store, tmp_path, toy_vectors)
    (tmp_path / "media" / "3.png").write_bytes(b"edited since")  # no longer the indexed bytes
    done = tasks.reembed(store, Settings(data=str(data)), str(siglip), _quiet)
    assert done["from_thumbnail"] == 1 and store.images.count() == N
    sha = store.images.retrieve([ids[3]])[0].payload["sha256"]
    encoder = SiglipEncoder(str(siglip), runtime=FP32)
    own = encoder.embed_images([decode_image(thumb_path(data, sha), THUMB_SIDE)[0]])[0]
    stored = store.images.retrieve([ids[3]], with_vectors=True)[0].vector
    assert float(own @ stored) == pytest.approx(1.0, abs=1e-4)


def test_an_unreadable_image_stops_the_switch_until_it_is_dropped_by_name(
    make_store, tmp_path, toy_vectors, siglip
):
    store = make_store()
    ids, data = _index(store, tmp_path, toy_vectors)
    settings = Settings(data=str(data))
    _lose(store, ids, 4, tmp_path, data)

    with pytest.raises(StoreError, match="1 images have neither a readable original"):
        tasks.reembed(store, settings, str(siglip), _quiet)
    assert store.meta.model == "toy" and store.images.count() == N  # unchanged

    done = tasks.reembed(store, settings, str(siglip), _quiet, drop_unreadable=True)
    assert done["embedded"] == 0 and done["images"] == N - 1  # the first run's went on
    assert [d["id"] for d in done["dropped"]] == [ids[4]]
    assert "no readable original or thumbnail" in done["dropped"][0]["reason"]
    assert store.meta.model == str(siglip) and store.images.count() == N - 1


def test_a_switch_cut_short_is_finished_when_the_store_opens(
    tmp_path, toy_vectors, siglip, monkeypatch
):
    import json
    import os

    from picsift.store import switch

    store = EdgeStore(tmp_path / "store")
    _, data = _index(store, tmp_path, toy_vectors)

    def crash(directory):
        moves = json.loads((directory / switch.JOURNAL).read_text())["moves"]
        for src, dst in moves[:5]:  # the old shards moved aside, one new one in place
            (directory / dst).parent.mkdir(parents=True, exist_ok=True)
            os.replace(directory / src, directory / dst)
        raise OSError("disk gone")

    monkeypatch.setattr(switch, "finish_switch", crash)
    with pytest.raises(OSError, match="disk gone"):
        tasks.reembed(store, Settings(data=str(data)), str(siglip), _quiet)
    store.close()
    with EdgeStore(tmp_path / "store") as reopened:
        assert reopened.meta.model == str(siglip) and reopened.images.count() == N
        assert reopened.topics.count() == 0
    assert not {p.name for p in (tmp_path / "store").iterdir()} & {"reembed", "switch.json"}


def test_a_switch_cut_short_while_deleting_the_old_shards_keeps_the_new(
    tmp_path, toy_vectors, siglip, monkeypatch
):
    import shutil

    from picsift.store import switch

    store = EdgeStore(tmp_path / "store")
    _, data = _index(store, tmp_path, toy_vectors)
    real = shutil.rmtree

    def interrupted(path, ignore_errors=False):
        if (tmp_path / "store" / switch.JOURNAL).exists() and Path(path).name == switch.STAGING:
            raise KeyboardInterrupt  # Ctrl-C after the old shards went, before the journal
        real(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(switch.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tasks.reembed(store, Settings(data=str(data)), str(siglip), _quiet)
    store.close()
    monkeypatch.undo()
    with EdgeStore(tmp_path / "store") as reopened:  # the journal is replayed on open
        assert reopened.meta.model == str(siglip) and reopened.images.count() == N


def test_a_resumed_reembed_carries_what_changed_meanwhile(
    make_store, tmp_path, toy_vectors, siglip
):
    store = make_store()
    ids, data = _index(store, tmp_path, toy_vectors)
    settings = Settings(data=str(data))
    _lose(store, ids, 4, tmp_path, data)
    with pytest.raises(StoreError, match="neither a readable original"):
        tasks.reembed(store, settings, str(siglip), _quiet)
    store.images.set_payloads([(ids[0], {"caption": "captioned since"})])
    store.images.delete([ids[1]])  # its dataset removed since

    done = tasks.reembed(store, settings, str(siglip), _quiet, drop_unreadable=True)

    assert done["embedded"] == 0 and store.meta.model == str(siglip)
    assert store.images.retrieve([ids[0]])[0].payload["caption"] == "captioned since"
    assert not store.images.retrieve([ids[1]]) and store.images.count() == N - 2


def test_a_first_server_switch_cut_short_is_finished_when_the_store_opens(
    tmp_path, toy_vectors, siglip, monkeypatch
):
    from qdrant_client import QdrantClient

    from picsift.store.server import ServerStore

    client = QdrantClient(":memory:")
    store = ServerStore(client, location=":memory:")
    _, data = _index(store, tmp_path, toy_vectors)
    real, calls = client.update_collection_aliases, []

    def dropped(operations):
        calls.append(operations)
        if len(calls) == 2:  # the images' alias: after their collection went
            raise ConnectionError("server gone")
        return real(operations)

    monkeypatch.setattr(client, "update_collection_aliases", dropped)
    with pytest.raises(ConnectionError):
        tasks.reembed(store, Settings(data=str(data)), str(siglip), _quiet)
    monkeypatch.undo()
    reopened = ServerStore(client, location=":memory:", owns_client=False)
    assert reopened.meta.model == str(siglip) and reopened.images.count() == N
