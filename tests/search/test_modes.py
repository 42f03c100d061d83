"""Text and hybrid search (#19) on both backends, over toy shapes whose posts say things in
German and English, indexed by the real indexer with the text phase: text mode finds a word's
other forms in the posts and says which words matched; hybrid fuses that with the image in the
engine; each mode's cut is its own; pages fit together; API, CLI and export agree."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from indexer.cache import IndexCache
from indexer.reader import MediaReader
from indexer.run import Sources, TextVectors, run_index
from picsift.errors import InputError
from picsift.settings import Settings
from search.app import create_app
from tests.text_corpus import POSTS, search, write_corpus

pytestmark = pytest.mark.filterwarnings("ignore:Local mode", "ignore:Payload indexes")


def posts_of(result, ids) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[h["id"]] for h in result.hits]


def test_text_mode_finds_every_form_of_a_word_and_says_which(indexed, toy_clip):
    store, ids = indexed
    result = search(store, toy_clip, "Traktor", mode="text")
    assert result.mode == "text" and set(posts_of(result, ids)) == {"101", "102"}
    assert result.matched == 2 and not result.matched_capped
    evidence = {h["id"]: h["evidence"] for h in result.hits}
    assert evidence[ids["101"]]["matched"] == {"body": ["Traktoren"]}
    assert evidence[ids["102"]]["matched"] == {"body": ["Traktor"]}
    assert evidence[ids["101"]]["text"]["german"] > 0
    assert -1 <= evidence[ids["101"]]["image"] <= 1  # the image score is evidence too
    hashtags = search(store, toy_clip, "protest", mode="text")
    assert posts_of(hashtags, ids) == ["103"]
    assert hashtags.hits[0]["evidence"]["matched"] == {"hashtags": ["protest"]}


def test_a_text_mode_cut_is_on_the_bm25_score(indexed, toy_clip):
    store, ids = indexed
    scores = {
        h["id"]: max(h["evidence"]["text"].values())
        for h in search(store, toy_clip, "Traktor Autobahn", mode="text").hits
    }
    assert set(scores) == {ids["101"], ids["102"]}
    cut = (scores[ids["101"]] + scores[ids["102"]]) / 2
    above = search(store, toy_clip, "Traktor Autobahn", mode="text", min_score=cut)
    assert [h["id"] for h in above.hits] == [max(scores, key=scores.get)]


def test_hybrid_fuses_the_image_and_the_text_in_the_engine(indexed, toy_clip):
    store, ids = indexed
    image = search(store, toy_clip, "red circle Autobahn", mode="image")
    hybrid = search(store, toy_clip, "red circle Autobahn", mode="hybrid")
    assert posts_of(image, ids)[0] == "101"  # the red circle, by the image alone
    # First in all three legs (image, German, English: "Autobahn" is one word in both).
    assert posts_of(hybrid, ids)[0] == "101"
    assert hybrid.hits[0]["score"] == pytest.approx(3 / 60, abs=1e-6)
    assert set(posts_of(hybrid, ids)) == set(POSTS)  # the image leg ranks every image
    # A text match outranks a better image: "Traktor" is 102's word, the image leg's first
    # is 101's red circle.
    traktor = search(store, toy_clip, "red circle Traktor", mode="hybrid")
    assert posts_of(traktor, ids)[:2] == ["102", "101"]
    first = traktor.hits[0]["evidence"]
    assert first["matched"] == {"body": ["Traktor"]} and first["text"]["english"] > 0


def test_hybrid_pages_fit_together(indexed, toy_clip):
    store, _ = indexed
    whole = [h["id"] for h in search(store, toy_clip, "Traktor", mode="hybrid", limit=6).hits]
    pages = [
        h["id"]
        for offset in (0, 2, 4)
        for h in search(store, toy_clip, "Traktor", mode="hybrid", limit=2, offset=offset).hits
    ]
    assert pages == whole and len(whole) == 6


def test_each_mode_refuses_what_it_cannot_do(indexed, toy_clip):
    store, _ = indexed
    with pytest.raises(InputError, match="min_score: hybrid mode ranks by fused rank"):
        search(store, toy_clip, "Traktor", mode="hybrid", min_score=0.2)
    with pytest.raises(InputError, match="not: subtracting terms"):
        search(store, toy_clip, "Traktor", mode="text", not_=("Feld",))
    with pytest.raises(InputError, match="BM25 score"):
        search(store, toy_clip, "Traktor", mode="text", min_score=-1)
    with pytest.raises(InputError, match="mode: must be"):
        search(store, toy_clip, "Traktor", mode="words")


def test_a_store_without_text_vectors_says_how_to_get_them(make_store, toy_clip, tmp_path):
    store = make_store(text_languages=())
    store.ensure(toy_clip.model_id, toy_clip.dim)
    with pytest.raises(InputError, match="picsift store migrate"):
        search(store, toy_clip, "Traktor", mode="text")


def test_api_cli_and_export_in_text_mode(tmp_path, toy_clip):
    from cli.main import app
    from picsift.store.edge import EdgeStore

    sources = write_corpus(tmp_path)
    store_dir = tmp_path / "store"
    runner = CliRunner()
    base = ["--store", str(store_dir), "--model", "toy"]
    indexed = runner.invoke(app, [*base, "index", *map(str, sources), "--no-captions"])
    assert indexed.exit_code == 0, indexed.output
    assert "text search: 6 images' text vectors made" in indexed.output

    out = runner.invoke(app, [*base, "search", "Traktor", "--mode", "text"])
    assert out.exit_code == 0, out.output
    assert "2 images ranked by text search" in out.output
    assert "matched body: Traktoren" in out.output and "text german" in out.output

    csv_out = tmp_path / "traktor.csv"
    exported = runner.invoke(
        app, [*base, "export", "Traktor", "--mode", "text", "--out", str(csv_out)]
    )
    assert exported.exit_code == 0, exported.output  # a text ranking ends: no cut needed
    rows = list(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert {r["post_id"] for r in rows} == {"101", "102"}
    manifest = json.loads(Path(f"{csv_out}.manifest.json").read_text())
    assert manifest["search"]["mode"] == "text"
    assert manifest["search"]["fusion"] == {
        "method": "reciprocal rank",
        "k": 60,
        "depth_per_leg": 1000,
    }
    assert "fused by reciprocal rank" in manifest["selection"]

    settings = Settings(store=str(store_dir), model="toy", caption_model="none")
    with EdgeStore(store_dir) as opened, TestClient(create_app(settings, store=opened)) as client:
        found = client.get("/api/search", params={"q": "Traktor", "mode": "text"}).json()
        assert found["mode"] == "text" and len(found["hits"]) == 2
        assert found["hits"][0]["evidence"]["matched"]["body"]
        refused = client.get(
            "/api/search", params={"q": "Traktor", "mode": "hybrid", "min_score": 0.2}
        )
        assert refused.status_code == 422 and refused.json()["parameter"] == "min_score"
        image = client.get("/api/search", params={"q": "red circle", "mode": "image"}).json()
        assert image["mode"] == "image" and image["hits"][0]["evidence"] is None


def test_a_ranking_cut_off_at_a_legs_depth_says_so(indexed, toy_clip, monkeypatch):
    from search import fused

    store, _ = indexed
    monkeypatch.setattr(fused, "DEPTH", 3)
    hybrid = search(store, toy_clip, "red circle", mode="hybrid", limit=10)
    # The image leg brings 3 of the 6 images: the ranking holds those, and says more match.
    assert (len(hybrid.hits), hybrid.matched, hybrid.matched_capped) == (3, 3, True)
    text = search(store, toy_clip, "Traktor", mode="text", limit=10)
    assert (text.matched, text.matched_capped) == (2, False)


def test_a_stop_word_of_one_language_is_no_word_in_the_other(indexed, toy_clip):
    store, ids = indexed
    # "the" is an English stop word but a word to German's BM25 (103 says "block the
    # highway"), "die" the other way round (101: "mit Traktoren die Autobahn").
    assert posts_of(search(store, toy_clip, "the Traktor", mode="text"), ids)[-1] != "103"
    assert set(posts_of(search(store, toy_clip, "the Traktor", mode="text"), ids)) == {
        "101",
        "102",
    }
    assert posts_of(search(store, toy_clip, "die Farmers", mode="text"), ids) == ["103"]


def test_an_index_run_finishes_text_vectors_a_run_cut_short_left(make_store, toy_clip, tmp_path):
    store = make_store()
    sources = Sources(tuple(write_corpus(tmp_path)))
    for phases in ([], [TextVectors()]):  # the first run stopped before its text phase
        cache = IndexCache(tmp_path / "data")
        with MediaReader() as reader:
            run = run_index(
                store, toy_clip, cache, tmp_path / "data", sources, phases=phases, read=reader.read
            )
        cache.close()
    assert (run.new_ids, run.report["text"]) == ([], {"written": 6, "failed": []})
    assert len(search(store, toy_clip, "Traktor", mode="text").hits) == 2


def test_an_export_of_a_ranking_cut_at_its_depth_says_so(tmp_path, monkeypatch):
    from cli.main import app
    from search import fused

    runner = CliRunner()
    base = ["--store", str(tmp_path / "store"), "--model", "toy"]
    sources = map(str, write_corpus(tmp_path))
    assert runner.invoke(app, [*base, "index", *sources, "--no-captions"]).exit_code == 0
    monkeypatch.setattr(fused, "DEPTH", 1)  # two images say "Traktor": a leg of one is full
    out_csv = tmp_path / "t.csv"
    done = runner.invoke(app, [*base, "export", "Traktor", "--mode", "text", "--out", str(out_csv)])
    assert done.exit_code == 0, done.output
    assert "warning: the text ranking holds the best 1 images of each leg" in done.output
    manifest = json.loads(Path(f"{out_csv}.manifest.json").read_text())
    assert manifest["cut"]["depth_reached"] is True
    hybrid = runner.invoke(app, [*base, "export", "Traktor", "--mode", "hybrid", "--out", "x"])
    assert "a hybrid ranking has no end and no score to cut at" in str(hybrid.exception)


def test_text_mode_on_an_empty_store_says_to_index_first(make_store, toy_clip):
    from picsift.errors import StoreError

    with pytest.raises(StoreError, match="index some images first"):
        search(make_store(), toy_clip, "Traktor", mode="text")
