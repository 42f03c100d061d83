"""`picsift store export|import`: an embedded store moves to a server and back, unchanged."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import numpy as np
import pytest
from qdrant_client import QdrantClient
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import InputError, StoreError
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from picsift.store.notes import SELECTIONS
from picsift.store.portable import export_store, import_store
from picsift.store.server import ServerStore
from picsift.thumbs import thumb_path
from search import coding
from tests.indexer.conftest import write_4cat_zip, write_tiktok_csv

pytestmark = pytest.mark.filterwarnings(
    "ignore:Payload indexes have no effect", "ignore:Local mode"
)
runner = CliRunner()


def cli(store, *args) -> str:
    result = runner.invoke(app, ["--store", str(store), *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout  # stderr holds library warnings (transformers logs to it)


def contents(store) -> dict:
    points = {}
    for name in ("images", "topics"):
        for r in getattr(store, name).scroll(with_vectors=True):
            points[(name, r.id)] = (r.payload, r.vector)
    return points


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A toy-indexed embedded store with one topic point, and its export file."""
    root = tmp_path_factory.mktemp("portable")
    images = write_4cat_zip(root / "images.zip", 8)
    write_tiktok_csv(root / "posts.csv", 10, images)  # 1 post without media: posts cache
    cli(
        root / "store",
        "--model",
        "toy",
        "index",
        root / "images.zip",
        root / "posts.csv",
        "--no-captions",
    )
    with EdgeStore(root / "store") as store:
        first = next(iter(store.images.scroll(with_vectors=True)))
        store.topics.upsert([PointData(first.id, first.vector, {"topic": 0, "label": "red"})])
        store.notes(SELECTIONS).put("first one", {"ids": [first.id], "source": "picked"})
        coding.add_coder(store, "ann")
        coding.add_code(store, "meme")
        coding.code_image(store, first.id, "ann", ["meme"])
        before = contents(store)
        meta = store.meta
    for secret in ("coder-cookie.key", "sessions.json"):  # a serving server's, never exported
        (root / "store" / secret).write_text("secret")
    output = cli(root / "store", "store", "export", root / "store.tar")
    assert "exported 8 images, 1 topics, 1 saved selections" in output
    with tarfile.open(root / "store.tar") as tar:
        names = tar.getnames()
    assert "data/index-cache.sqlite" in names
    assert not [n for n in names if n.endswith(("coder-cookie.key", "sessions.json"))]
    return root, before, meta


def test_embedded_to_server_keeps_everything(exported, tmp_path):
    root, before, meta = exported
    with ServerStore(QdrantClient(":memory:")) as server:
        done = import_store(server, tmp_path / "data", root / "store.tar")
        assert (done.images, done.topics, done.selections) == (8, 1, 1)
        saved = server.notes(SELECTIONS).get("first one")
        assert saved is not None and saved["source"] == "picked" and len(saved["ids"]) == 1
        # The coding comes along: coders (their key hashes), codebook, codings and the log.
        assert [(c["coder"], c["codes"]) for c in coding.codings(server)] == [("ann", ["meme"])]
        assert len(coding.log(server)) == 1 and coding.codebook(server)[0]["code"] == "meme"
        assert [c["name"] for c in coding.coders(server)] == ["ann"]
        assert server.meta.model == meta.model and server.meta.dim == meta.dim
        after = contents(server)
    assert after.keys() == before.keys()
    for key, (payload, vector) in before.items():
        # Text vectors are not exported (made again in the target's languages), nor is the
        # record of what they were made from.
        assert after[key][0] == {k: v for k, v in payload.items() if k != "text_sha"}
        assert np.allclose(after[key][1], vector, atol=1e-6)  # the engine renormalises
    for (name, _), (payload, _) in before.items():
        if name == "images":
            assert thumb_path(tmp_path / "data", payload["sha256"]).is_file()
    assert (tmp_path / "data" / "index-cache.sqlite").is_file()
    assert not (tmp_path / "data" / "qdrant").exists()


def test_cli_import_into_a_new_embedded_store_then_search_and_reindex(exported, tmp_path):
    root, before, _ = exported
    output = cli(tmp_path / "copy", "store", "import", root / "store.tar")
    assert "imported 8 images, 1 topics, 1 saved selections" in output
    assert "text search: 8 images' text vectors made" in output
    with EdgeStore(tmp_path / "copy") as store:
        assert contents(store).keys() == before.keys()
    hits = json.loads(cli(tmp_path / "copy", "search", "red circle", "--json", "--limit", "3"))
    assert len(hits["hits"]) == 3
    # The posts and hash caches came along: indexing the same sources again adds nothing.
    again = cli(
        tmp_path / "copy", "index", root / "images.zip", root / "posts.csv", "--no-captions"
    )
    assert "0 new images, 8 already indexed" in again


def test_import_refuses_a_store_that_holds_images(exported):
    root, _, _ = exported
    with (
        EdgeStore(root / "store") as store,
        pytest.raises(StoreError, match="already holds 8 images"),
    ):
        import_store(store, root / "store", root / "store.tar")


def test_export_of_an_empty_store_is_an_error(tmp_path):
    with EdgeStore(tmp_path / "empty") as store, pytest.raises(StoreError, match="empty"):
        export_store(store, tmp_path / "empty", tmp_path / "out.tar")
    assert not (tmp_path / "out.tar").exists()


def _tar(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_damaged_files_name_the_file_and_line(exported, tmp_path):
    _, _, meta = exported
    (tmp_path / "text.tar").write_text("not a tar")
    _tar(tmp_path / "nomanifest.tar", {"images.jsonl.gz": b""})
    manifest = json.dumps({"format": "picsift-store", "version": 1, "meta": meta.to_dict()})
    short = json.dumps(
        {"id": "00000000-0000-0000-0000-000000000001", "vector": "AAAAAA==", "payload": {}}
    )
    _tar(
        tmp_path / "short.tar",
        {"manifest.json": manifest.encode(), "images.jsonl.gz": gzip.compress(short.encode())},
    )
    cases = [
        ("missing.tar", "no such file"),
        ("text.tar", "not a tar file"),
        ("nomanifest.tar", "no valid manifest.json"),
        ("short.tar", "images.jsonl.gz line 1: vector has 1 values"),
    ]
    for name, message in cases:
        with (
            ServerStore(QdrantClient(":memory:")) as server,
            pytest.raises(InputError, match=message) as err,
        ):
            import_store(server, tmp_path / "data", tmp_path / name)
        assert name in str(err.value)


def test_import_into_a_store_with_coding_is_refused(exported, tmp_path):
    root, _, _ = exported
    with EdgeStore(tmp_path / "copy") as store:
        coding.add_coder(store, "zed")
        with pytest.raises(StoreError, match="already holds coders"):
            import_store(store, tmp_path / "data", root / "store.tar")
