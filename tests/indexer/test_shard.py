"""`picsift index --shard I/N`: workers together index every image exactly once."""

from __future__ import annotations

import hashlib

import pytest
from qdrant_client import QdrantClient
from typer.testing import CliRunner

from cli.main import app
from indexer.cache import IndexCache
from indexer.payloads import image_id
from indexer.pipeline import Indexer
from indexer.shard import Shard
from indexer.sources import collect
from picsift.errors import InputError
from picsift.store.server import ServerStore
from tests.indexer.conftest import write_4cat_zip, write_tiktok_csv


def payloads(store) -> dict[str, dict]:
    return {r.id: r.payload for r in store.images.scroll()}


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect", "ignore:Local mode")
def test_three_workers_index_every_image_once(tmp_path, toy_encoder):
    archive = tmp_path / "images.zip"
    images = write_4cat_zip(archive, 24)  # the last image is used by two posts
    write_tiktok_csv(tmp_path / "posts.csv", 26, images)  # post 25 has no media
    sources = [archive, tmp_path / "posts.csv"]
    stores = {}
    for name, shards in (("single", [None]), ("workers", [Shard(i, 3) for i in (1, 2, 3)])):
        store = stores[name] = ServerStore(QdrantClient(":memory:"))
        reports = []
        for shard in shards:
            # Each worker has its own PICSIFT_DATA, as on separate machines.
            cache = IndexCache(tmp_path / name / str(shard))
            found = collect(sources, None)
            indexer = Indexer(store, toy_encoder, cache, tmp_path / name, shard=shard)
            reports.append(indexer.run(found.media, found.posts))
            cache.close()
        if name == "workers":
            assert sorted(r.new for r in reports) == sorted(
                sum(shard.owns(i) for i in payloads(store)) for shard in shards
            )
            assert all(0 < r.new < 24 for r in reports)
            assert sum(r.new for r in reports) == 24
            assert all((r.posts_linked, r.posts_without_media) == (25, 1) for r in reports)
    single, workers = payloads(stores["single"]), payloads(stores["workers"])
    assert len(workers) == 24 and set(workers) == set(single)
    for point_id, payload in workers.items():
        assert payload["posts"] == single[point_id]["posts"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("3", "is not I/N"), ("0/3", "out of range 1..3"), ("4/3", "out of range"), ("a/b", "I/N")],
)
def test_bad_shard_names_the_option(text, message):
    with pytest.raises(InputError, match=message) as err:
        Shard.parse(text)
    assert "--shard" in str(err.value)


def test_shards_partition_ids():
    ids = [image_id(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(300)]
    owners = [[s for s in range(1, 4) if Shard(s, 3).owns(i)] for i in ids]
    assert all(len(o) == 1 for o in owners)
    assert {o[0] for o in owners} == {1, 2, 3}


def test_cli_shard_runs_and_rejects_bad_values(tmp_path):
    write_4cat_zip(tmp_path / "images.zip", 6)
    base = ["--store", str(tmp_path / "store"), "--model", "toy", "index"]
    bad = CliRunner().invoke(app, [*base, str(tmp_path / "images.zip"), "--shard", "5/2"])
    assert bad.exit_code != 0 and "--shard" in str(bad.exception)
    runner = CliRunner()
    for i in (1, 2):
        ok = runner.invoke(
            app, [*base, str(tmp_path / "images.zip"), "--no-captions", "--shard", f"{i}/2"]
        )
        assert ok.exit_code == 0, ok.output
    again = runner.invoke(app, [*base, str(tmp_path / "images.zip"), "--no-captions"])
    assert "0 new images, 6 already indexed" in again.output
