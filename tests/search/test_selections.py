"""Saved selections: a search view's images (query, filters, cut) or ids the client holds,
frozen under a name, listed, reopened, searched within (`selection=NAME`), exported with the
selection in the manifest, and deleted; from the API, the CLI and the library, on both
backends. Images removed from the store since are counted, not silently dropped."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid

import pytest
from typer.testing import CliRunner

from cli.main import app
from picsift.errors import InputError
from picsift.store import PointData
from picsift.store.edge import EdgeStore
from search import selections
from search.query import SearchRequest
from search.service import NotFoundError, SearchService
from tests.conftest import unit_vectors
from tests.indexer.conftest import index, write_4cat_zip, write_tiktok_csv


def _save(client, name, params=None, **body):
    return client.post("/api/selections", params=params or {}, json={"name": name, **body})


def test_a_search_view_is_saved_with_its_images_in_order(client, corpus):
    blue = {i for i, c in corpus.truth.colour.items() if c == "blue"}
    made = _save(client, "blue shapes", {"topic": 2}, description="all blue")
    assert made.status_code == 201, made.text
    assert made.json()["images"] == len(blue) and made.json()["present"] == len(blue)
    full = client.get("/api/selections/blue shapes").json()
    browsed = client.get("/api/search", params={"topic": 2, "limit": 1000}).json()["hits"]
    assert full["ids"] == [h["id"] for h in browsed]  # newest first, as the view listed them
    assert full["view"]["request"]["topics"] == [2] and full["source"] == "search"
    assert (full["description"], full["created_by"], full["model"]) == ("all blue", "admin", "toy")
    listed = client.get("/api/selections").json()
    assert "blue shapes" in [s["name"] for s in listed]


def test_a_ranking_is_saved_down_to_its_cut(client):
    refused = _save(client, "reds", {"q": "red circle", "mode": "image"})
    assert refused.status_code == 422 and "needs a cut" in refused.json()["message"]
    made = _save(client, "reds", {"q": "red circle", "mode": "image", "limit": 7})
    ranked = client.get(
        "/api/search", params={"q": "red circle", "mode": "image", "limit": 7}
    ).json()["hits"]
    assert client.get("/api/selections/reds").json()["ids"] == [h["id"] for h in ranked]
    assert made.json()["images"] == 7


def test_ids_are_checked_and_kept_once(client, corpus):
    ids = sorted(corpus.truth.colour)[:3]
    made = _save(client, "picked", source="picked", ids=[ids[0], ids[1], ids[0], ids[2]])
    assert made.status_code == 201 and made.json()["images"] == 3
    assert client.get("/api/selections/picked").json()["ids"] == ids
    unknown = _save(client, "bad", source="map", ids=[ids[0], str(uuid.UUID(int=7))])
    assert unknown.status_code == 422 and unknown.json()["parameter"] == "ids"
    assert "1 of the images are not in the store" in unknown.json()["message"]
    mixed = _save(client, "bad", {"topic": 1}, source="picked", ids=ids)
    assert mixed.status_code == 422 and mixed.json()["parameter"] == "source"
    empty = _save(client, "bad", source="picked", ids=[])
    assert empty.status_code == 422 and empty.json()["parameter"] == "ids"


def test_search_and_export_keep_to_a_selection(client, corpus):
    ids = sorted(corpus.truth.colour)[10:30]
    _save(client, "twenty", source="picked", ids=ids)
    browsed = client.get("/api/search", params={"selection": "twenty", "limit": 100}).json()
    assert sorted(h["id"] for h in browsed["hits"]) == sorted(ids) and browsed["matched"] == 20
    ranked = client.get(
        "/api/search", params={"selection": "twenty", "q": "red", "mode": "image", "limit": 5}
    ).json()
    assert ranked["matched"] == 20 and {h["id"] for h in ranked["hits"]} <= set(ids)
    table = client.get("/api/export", params={"selection": "twenty"}).text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert {r["image_id"] for r in rows} == set(ids)
    manifest = client.get("/api/export/manifest", params={"selection": "twenty"}).json()
    saved = manifest["saved_selection"]
    assert (saved["name"], saved["source"], saved["images"], saved["present"]) == (
        "twenty",
        "picked",
        20,
        20,
    )
    assert manifest["filters"]["selection"] == "twenty"
    missing = client.get("/api/search", params={"selection": "no such"})
    assert missing.status_code == 404 and missing.json()["parameter"] == "selection"


def test_a_name_is_taken_until_replaced_or_deleted(client, corpus):
    ids = sorted(corpus.truth.colour)
    assert _save(client, "mine", source="picked", ids=ids[:2]).status_code == 201
    again = _save(client, "mine", source="picked", ids=ids[2:4])
    assert again.status_code == 422 and again.json()["parameter"] == "name"
    replaced = _save(client, "mine", source="picked", ids=ids[2:5], replace=True)
    assert replaced.json()["images"] == 3
    assert client.delete("/api/selections/mine").status_code == 204
    assert client.get("/api/selections/mine").status_code == 404
    assert client.delete("/api/selections/mine").status_code == 404
    assert _save(client, "  ", source="picked", ids=ids[:1]).status_code == 422


def test_images_removed_since_are_counted(make_store, toy_clip):
    store = make_store()
    store.ensure("toy", 8)
    vectors = unit_vectors(5, 8)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(5)]
    store.images.upsert(
        [PointData(i, vectors[n], {"first_seen": n, "posts": []}) for n, i in enumerate(ids)]
    )
    service = SearchService(store, toy_clip)
    selections.save(service, "five", "picked", ids=ids)
    store.images.delete(ids[:2])
    assert [s["present"] for s in selections.listed(store)] == [3]
    kept = service.browse(SearchRequest(selection="five", limit=10)).hits
    assert sorted(h["id"] for h in kept) == ids[2:]
    assert selections.load(store, "five").ids == ids  # what it held stays on record
    with pytest.raises(NotFoundError, match="selection: no saved selection 'gone'"):
        service.browse(SearchRequest(selection="gone"))
    with pytest.raises(InputError, match="source: one of"):
        selections.save(service, "x", "lasso", ids=ids)  # type: ignore[arg-type]


def test_the_cli_saves_lists_shows_exports_and_deletes(tmp_path):
    images = write_4cat_zip(tmp_path / "a.zip", 12, seed=3)
    write_tiktok_csv(tmp_path / "a.csv", 12, images)
    store = tmp_path / "store"
    index(store, tmp_path / "a.zip", tmp_path / "a.csv")
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["--store", str(store), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    said = cli("selections", "save", "by user0", "--author", "user0", "--description", "one")
    assert said.startswith("saved by user0  4 images, search, saved ")
    shown = json.loads(cli("selections", "show", "by user0", "--json"))
    assert len(shown["ids"]) == 4 and shown["view"]["request"]["authors"] == ["user0"]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(["# two of them", *shown["ids"][:2]]) + "\n")
    cli("selections", "save", "two", "--ids-file", str(ids_file), "--source", "picked")
    listing = cli("selections", "list")
    assert listing.startswith("2 saved selections") and "two  2 images, picked" in listing
    out = tmp_path / "two.csv"
    cli("export", "--selection", "two", "--out", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["image_id"] for r in rows} == set(shown["ids"][:2])
    manifest = json.loads(out.with_name("two.csv.manifest.json").read_text())
    assert manifest["saved_selection"]["images"] == 2
    cli("selections", "delete", "two")
    assert cli("selections", "list").startswith("1 saved selections")


def test_an_export_follows_the_saved_order_and_names_its_version(client, corpus):
    ids = sorted(corpus.truth.colour, reverse=True)[:5]  # not the store's id order
    _save(client, "ordered", source="picked", ids=ids)
    rows = list(
        csv.DictReader(io.StringIO(client.get("/api/export", params={"selection": "ordered"}).text))
    )
    assert list(dict.fromkeys(r["image_id"] for r in rows)) == ids
    first = client.get("/api/export/manifest", params={"selection": "ordered"}).json()
    _save(client, "ordered", source="picked", ids=ids[:2], replace=True)
    second = client.get("/api/export/manifest", params={"selection": "ordered"}).json()
    assert (first["saved_selection"]["version"], second["saved_selection"]["version"]) == (1, 2)
    listed = {s["name"]: s for s in client.get("/api/selections").json()}["ordered"]
    assert listed["created_at"] == first["saved_selection"]["created_at"]  # kept on replace
    assert listed["saved_at"] >= listed["created_at"]
    digest = hashlib.sha256("\n".join(ids[:2]).encode()).hexdigest()
    assert (
        second["saved_selection"]["ids_sha256"] == digest != first["saved_selection"]["ids_sha256"]
    )
    slash = _save(client, "week 3/4", source="picked", ids=ids[:1])
    assert slash.status_code == 422 and slash.json()["parameter"] == "name"


def test_a_view_over_the_cap_is_refused_not_cut(client, monkeypatch):
    monkeypatch.setattr(selections, "MAX_RANKED", 5)
    refused = _save(client, "too many", {"topic": 2})
    assert refused.status_code == 422 and refused.json()["parameter"] == "limit"
    assert "over 5 images" in refused.json()["message"]
    assert _save(client, "five", {"topic": 2, "limit": 5}).json()["images"] == 5


def test_the_cli_reads_ids_as_picked_and_refuses_mixing(tmp_path):
    images = write_4cat_zip(tmp_path / "a.zip", 6, seed=3)
    write_tiktok_csv(tmp_path / "a.csv", 6, images)
    store = tmp_path / "store"
    index(store, tmp_path / "a.zip", tmp_path / "a.csv")
    with EdgeStore(store) as opened:
        first = next(iter(opened.images.scroll(with_payload=False))).id
    (tmp_path / "ids.txt").write_text(first + "\n")
    runner = CliRunner()
    base = ["--store", str(store), "selections", "save"]
    one = runner.invoke(app, [*base, "one", "--ids-file", str(tmp_path / "ids.txt")])
    assert one.output.startswith("saved one  1 images, picked"), one.output
    for extra in (["--source", "search"], ["--author", "user0"], ["--limit", "3"]):
        mixed = runner.invoke(app, [*base, "two", "--ids-file", str(tmp_path / "ids.txt"), *extra])
        assert isinstance(mixed.exception, InputError), mixed.output
