"""A store made by the last release before text search (schema 1: `tests/fixtures/
store-v1.tar.gz`, six toy images of a 4CAT zip and their TikTok CSV indexed by picsift at
commit d2167b3 with the toy model) opens, searches by image, says how to get text search, and
`picsift store migrate` gives it text vectors in place, keeping every payload and vector."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from cli.main import app
from picsift.engagement import image_engagement
from picsift.errors import InputError
from picsift.store.edge import EdgeStore
from picsift.text import Bm25Texts

FIXTURE = Path(__file__).parents[1] / "fixtures" / "store-v1.tar.gz"
runner = CliRunner()


def cli(store: Path, *args: str) -> str:
    result = runner.invoke(app, ["--store", str(store), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def unpacked(tmp_path: Path) -> Path:
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "v1store"


def points(store: Path) -> dict:
    with EdgeStore(store) as opened:
        return {r.id: (r.payload, r.vector) for r in opened.images.scroll(with_vectors=True)}


def test_a_store_of_the_last_release_is_migrated_in_place(tmp_path):
    store = unpacked(tmp_path)
    before = points(store)
    with EdgeStore(store) as opened:
        assert (opened.meta.schema_version, opened.has_text_vectors) == (1, False)
    assert json.loads(cli(store, "status", "--json"))["text_languages"] == []
    assert "picsift store migrate" in cli(store, "status")
    assert len(json.loads(cli(store, "search", "red", "--json", "--limit", "3"))["hits"]) == 3

    out = cli(store, "store", "migrate")
    assert "to schema 2: text vectors in german, english" in out
    assert "text search: 6 images' text vectors made" in out
    assert "engagement stored for 6 images (summed from their posts)" in out
    after = points(store)
    assert after.keys() == before.keys()
    for key, (payload, vector) in before.items():
        new_payload, new_vector = after[key]
        added = ("engagement", "engagement_posts")
        kept = {k: v for k, v in new_payload.items() if not k.startswith("text_")}
        assert {k: v for k, v in kept.items() if k not in added} == payload
        assert {k: kept[k] for k in added} == image_engagement(payload["posts"])
        assert np.allclose(new_vector, vector)
    with EdgeStore(store) as opened:
        assert opened.meta.schema_version == 2
        query = Bm25Texts(["english"]).query("farmers")["bm25-english"]
        found = opened.images.sparse_query(query, "bm25-english", limit=10)
    # The odd posts' hashtags say "farmers".
    odd = {k for k, (p, _) in after.items() if "farmers" in p["posts"][0]["hashtags"]}
    assert {h.id for h in found} == odd and odd
    again = cli(store, "store", "migrate")
    assert "is at schema 2 (text: german, english)" in again
    assert "text search: 0 images' text vectors made" in again


def test_a_migration_cut_short_is_finished_by_the_next(tmp_path):
    store = unpacked(tmp_path)
    with EdgeStore(store) as opened:
        opened.add_text_vectors()  # the vectors added, then the process died: none made
    out = cli(store, "store", "migrate")
    assert "is at schema 2" in out and "text search: 6 images' text vectors made" in out


def test_migrate_indexes_the_fields_of_later_releases(tmp_path):
    store = unpacked(tmp_path)
    first = cli(store, "store", "migrate")
    added = next(line for line in first.splitlines() if line.startswith("payload indexes added"))
    assert added == (
        "payload indexes added: engagement, engagement_posts, phash_bands, variant, variant_size"
    )
    with EdgeStore(store) as opened:  # recorded with the store, and there
        indexes = set(opened.images.spec.indexes)
        assert {"variant", "variant_size", "phash_bands", "engagement"} <= indexes
        assert opened.images.facet("variant") == {}
    again = cli(store, "store", "migrate")
    assert "payload indexes added" not in again and "engagement stored" not in again


def test_sorting_by_engagement_asks_an_old_store_to_migrate(tmp_path):
    store = unpacked(tmp_path)
    ranked = ("search", "red", "--mode", "image", "--min-score", "-1", "--sort", "engagement")
    refused = runner.invoke(app, ["--store", str(store), *ranked])
    assert isinstance(refused.exception, InputError)
    assert "6 of the images have no engagement stored yet" in str(refused.exception)
    assert "picsift store migrate" in str(refused.exception)
    cli(store, "store", "migrate")
    found = json.loads(cli(store, *ranked, "--json", "--limit", "6"))
    engaged = [h["engagement"] for h in found["hits"]]
    assert len(engaged) == 6 and engaged == sorted(engaged, reverse=True)
    said = cli(store, *ranked, "--limit", "2")
    assert "sorted by engagement: the most liked" in said
    top = found["hits"][0]
    assert f"engagement {top['engagement']:,} over {top['engagement_posts']} post" in said


def test_importing_an_older_stores_export_stores_engagement(tmp_path):
    store = unpacked(tmp_path)
    cli(store, "store", "export", str(tmp_path / "old.tar"))
    out = cli(tmp_path / "copy", "store", "import", str(tmp_path / "old.tar"))
    assert "engagement stored for 6 images (summed from their posts)" in out
    for payload, _ in points(tmp_path / "copy").values():
        assert {k: payload[k] for k in ("engagement", "engagement_posts")} == image_engagement(
            payload["posts"]
        )
